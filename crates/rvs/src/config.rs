//! Placeholder: filled in by the config work (issue #7).
