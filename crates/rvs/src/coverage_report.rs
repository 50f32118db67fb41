//! Placeholder: filled in by the coverage_report work (issue #7).
