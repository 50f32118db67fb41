//! `rvs-upcall`: see `../shared/reference/design.md`; not built yet.
