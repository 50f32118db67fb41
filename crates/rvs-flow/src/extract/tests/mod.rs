//! Tests of packet extraction: hand-made cases per protocol and per truncation/malformation
//! ([`cases`], checked in `l2`, `l3`, `l4`), property tests with `etherparse`-built packets
//! (`props`), and a differential run against Open vSwitch itself ([`oracle`], ignored by default).

mod cases;
mod oracle;
