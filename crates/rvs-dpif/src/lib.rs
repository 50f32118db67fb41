//! `rvs-dpif`: see `../shared/reference/design.md`; not built yet.
