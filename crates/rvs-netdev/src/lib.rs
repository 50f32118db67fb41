//! `rvs-netdev`: see `../shared/reference/design.md`; not built yet.
