//! `rvs-ctl`: see `../shared/reference/design.md`; not built yet.
