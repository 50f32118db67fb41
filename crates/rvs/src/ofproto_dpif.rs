//! Placeholder: filled in by the ofproto_dpif work (issue #7).
