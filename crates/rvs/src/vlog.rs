//! Placeholder: filled in by the vlog work (issue #7).
