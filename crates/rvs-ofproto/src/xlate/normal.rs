//! The NORMAL action (`xlate_normal` in Open vSwitch 3.1): an L2 learning switch with VLANs.
//!
//! # Invariants
//! * NORMAL always un-wildcards `dl_src`, `dl_dst` and the outer VID and CFI bits
//!   ([`unwildcard_for_normal`]); whatever else it reads (ARP fields for gratuitous-ARP
//!   detection, inner TCI for dot1q-tunnel ports) is un-wildcarded by the helpers it calls.
//! * Learning happens only when the input allows it; the key learned from and every key
//!   looked up are recorded as MAC tags and as the cache's learning side effect.
//! * A packet never leaves through the port it came in on.

use super::NormalLearn;
use super::context::Ctx;
use crate::mac_learning::{LearnContext, MacKey, MacTags, is_gratuitous_arp, is_multicast};
use crate::vlan::{
    VLAN_REFUSAL_TRACE, XVlan, has_partial_vlan_tag, input_translate, input_vid_is_valid,
    output_flow_vlans, port_includes_vlan, unwildcard_for_normal, unwildcard_for_output,
};

/// The IEEE reserved multicast range 01:80:c2:00:00:00..0f (dropped unless `forward_bpdu`).
fn is_reserved_multicast(mac: &[u8; 6]) -> bool {
    mac[..5] == [0x01, 0x80, 0xc2, 0x00, 0x00] && mac[5] & 0xf0 == 0
}

impl Ctx<'_> {
    /// NORMAL.
    pub(super) fn normal(&mut self) {
        unwildcard_for_normal(&mut self.wc);
        let Some(in_ofport) = u16::try_from(self.flow.in_port).ok() else {
            return;
        };
        let Some(in_port) = self.xlator.bridge.by_ofport(in_ofport) else {
            self.trace_warn("no input bundle, dropping");
            return;
        };
        if has_partial_vlan_tag(&self.flow) {
            self.trace_warn("partial VLAN tag, dropping");
            return;
        }
        let in_xvlan = XVlan::extract(&self.flow);
        if let Err(refusal) = input_vid_is_valid(&in_port.vlan, in_xvlan.vlan()) {
            if self.trace.is_some() {
                self.trace_error(&refusal.message(&in_port.name));
                self.trace_warn(VLAN_REFUSAL_TRACE);
            }
            return;
        }
        let xvlan = input_translate(&in_port.vlan, &in_xvlan);
        let vlan = xvlan.vlan();
        if is_reserved_multicast(&self.flow.dl_dst) {
            self.trace_detail("packet has reserved destination MAC, dropping");
            return;
        }

        let grat_arp = is_gratuitous_arp(&self.flow, &mut self.wc);
        let src = self.flow.dl_src;
        let learn_ctx = LearnContext {
            gratuitous_arp: grat_arp,
            from_bond: false,
        };
        if self.input.may_learn {
            let _ = self
                .xlator
                .mac
                .learn(&src, vlan, in_ofport, learn_ctx, self.input.now_ms);
        }
        self.out
            .mac_tags
            .insert(MacTags::of(&MacKey::new(src, vlan)));
        self.out.normal_learn = Some(NormalLearn {
            in_port: in_ofport,
            dl_src: src,
            vlan,
            gratuitous_arp: grat_arp,
        });

        let dst = self.flow.dl_dst;
        if !is_multicast(&dst) {
            self.out
                .mac_tags
                .insert(MacTags::of(&MacKey::new(dst, vlan)));
            if let Some(out_port) = self.xlator.mac.lookup(&dst, vlan) {
                if out_port != in_ofport {
                    self.trace_detail("forwarding to learned port");
                    self.output_normal(out_port, &xvlan);
                } else {
                    self.trace_detail("learned port is input port, dropping");
                }
                return;
            }
        }
        // Multicast, broadcast or unknown destination: flood in the VLAN.
        self.trace_detail("no learned MAC for destination, flooding");
        let targets: Vec<u16> = self
            .xlator
            .bridge
            .ports()
            .iter()
            .filter(|p| p.ofport != in_ofport && port_includes_vlan(&p.vlan, &xvlan))
            .map(|p| p.ofport)
            .collect();
        for p in targets {
            self.output_normal(p, &xvlan);
        }
    }

    /// Outputs to `ofport` with the VLAN headers that port needs (`output_normal`).
    fn output_normal(&mut self, ofport: u16, xvlan: &XVlan) {
        let Some(port) = self.xlator.bridge.by_ofport(ofport) else {
            return;
        };
        unwildcard_for_output(&port.vlan, &mut self.wc);
        let vlans = output_flow_vlans(&port.vlan, xvlan, &self.flow.vlans);
        let saved = self.flow.vlans;
        self.flow.vlans = vlans;
        self.compose_output(ofport);
        self.flow.vlans = saved;
    }
}
