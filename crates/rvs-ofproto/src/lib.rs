//! `rvs-ofproto`: see `../shared/reference/design.md`; not built yet.
