//! Vendor ID payloads (RFC 2408 §3.16) that change behaviour: NAT-T
//! (RFC 3947 §3.1 and its drafts), DPD (RFC 3706 §3), IKE fragmentation and
//! the Microsoft/Cisco markers. Each value is the MD5 of a fixed string.

use hex_literal::hex;

/// A Vendor ID this crate recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum KnownVendor {
    /// MD5("RFC 3947"): NAT-T as RFC 3947.
    NatTRfc3947,
    /// MD5("draft-ietf-ipsec-nat-t-ike-02").
    NatTDraft02,
    /// MD5("draft-ietf-ipsec-nat-t-ike-02\n") (the draft's own typo, sent by
    /// Windows and racoon).
    NatTDraft02N,
    /// MD5("draft-ietf-ipsec-nat-t-ike-03").
    NatTDraft03,
    /// Dead Peer Detection, RFC 3706 §3 (version 1.0).
    Dpd,
    /// MD5("MS NT5 ISAKMPOAKLEY") followed by a Windows version.
    MsNt5IsakmpOakley,
    /// MD5("FRAGMENTATION"), possibly followed by flags: the Cisco/Microsoft
    /// IKE fragmentation extension.
    Fragmentation,
    /// The XAUTH draft (draft-ietf-ipsra-isakmp-xauth-06).
    Xauth,
    /// Cisco Unity.
    CiscoUnity,
}

/// RFC 3947 §3.1.
pub(crate) const NAT_T_RFC3947: [u8; 16] = hex!("4a131c81070358455c5728f20e95452f");
/// draft-ietf-ipsec-nat-t-ike-02.
pub(crate) const NAT_T_DRAFT02: [u8; 16] = hex!("cd60464335df21f87cfdb2fc68b6a448");
/// draft-ietf-ipsec-nat-t-ike-02\n.
pub(crate) const NAT_T_DRAFT02N: [u8; 16] = hex!("90cb80913ebb696e086381b5ec427b1f");
/// draft-ietf-ipsec-nat-t-ike-03.
pub(crate) const NAT_T_DRAFT03: [u8; 16] = hex!("7d9419a65310ca6f2c179d9215529d56");
/// RFC 3706 §3.
pub(crate) const DPD: [u8; 16] = hex!("afcad71368a1f1c96b8696fc77570100");
const MS_NT5: [u8; 16] = hex!("1e2b516905991c7d7c96fcbfb587e461");
const FRAGMENTATION: [u8; 16] = hex!("4048b7d56ebce88525e7de7f00d6c2d3");
/// MD5("FRAGMENTATION"), the first 16 octets of the fragmentation vendor ID.
pub(crate) const FRAGMENTATION_VID_HASH: [u8; 16] = FRAGMENTATION;
const XAUTH: [u8; 8] = hex!("09002689dfd6b712");
const CISCO_UNITY: [u8; 14] = hex!("12f5f28c457168a9702d9fe274cc");

/// A Vendor ID payload body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorId<'a>(pub &'a [u8]);

impl VendorId<'_> {
    /// Which known vendor ID this is, if any.
    pub fn known(&self) -> Option<KnownVendor> {
        let b = self.0;
        let exact = [
            (&NAT_T_RFC3947, KnownVendor::NatTRfc3947),
            (&NAT_T_DRAFT02, KnownVendor::NatTDraft02),
            (&NAT_T_DRAFT02N, KnownVendor::NatTDraft02N),
            (&NAT_T_DRAFT03, KnownVendor::NatTDraft03),
            (&DPD, KnownVendor::Dpd),
        ];
        for (v, k) in exact {
            if b == v {
                return Some(k);
            }
        }
        if b.len() >= 16 && b[..16] == MS_NT5 {
            return Some(KnownVendor::MsNt5IsakmpOakley);
        }
        if b.len() >= 16 && b[..16] == FRAGMENTATION {
            return Some(KnownVendor::Fragmentation);
        }
        if b.len() >= 8 && b[..8] == XAUTH {
            return Some(KnownVendor::Xauth);
        }
        if b.len() == 16 && b[..14] == CISCO_UNITY {
            return Some(KnownVendor::CiscoUnity);
        }
        None
    }

    /// The Windows version carried after "MS NT5 ISAKMPOAKLEY"
    /// (for example 4 = Windows 2000, 9 = Windows 10).
    pub fn ms_nt5_version(&self) -> Option<u32> {
        match self.known() {
            Some(KnownVendor::MsNt5IsakmpOakley) if self.0.len() == 20 => {
                Some(super::be32(self.0, 16))
            }
            _ => None,
        }
    }
}

impl KnownVendor {
    /// The bytes this crate sends for a vendor ID it announces.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Self::NatTRfc3947 => &NAT_T_RFC3947,
            Self::NatTDraft02 => &NAT_T_DRAFT02,
            Self::NatTDraft02N => &NAT_T_DRAFT02N,
            Self::NatTDraft03 => &NAT_T_DRAFT03,
            Self::Dpd => &DPD,
            Self::MsNt5IsakmpOakley => &MS_NT5,
            Self::Fragmentation => &FRAGMENTATION,
            Self::Xauth => &XAUTH,
            Self::CiscoUnity => &CISCO_UNITY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The vendor IDs of Main Mode message 1 of the Cisco capture
    // (ikev1-mm-qm-psk-aes128-modp1024-cisco.pcap, frame 1): RFC 3947,
    // an unknown one, draft-03 and draft-02\n.
    #[test]
    fn capture_vendor_ids() {
        assert_eq!(
            VendorId(&hex!("4a131c81070358455c5728f20e95452f")).known(),
            Some(KnownVendor::NatTRfc3947)
        );
        assert_eq!(
            VendorId(&hex!("439b59f8ba676c4c7737ae22eab8f582")).known(),
            None
        );
        assert_eq!(
            VendorId(&hex!("7d9419a65310ca6f2c179d9215529d56")).known(),
            Some(KnownVendor::NatTDraft03)
        );
        assert_eq!(
            VendorId(&hex!("90cb80913ebb696e086381b5ec427b1f")).known(),
            Some(KnownVendor::NatTDraft02N)
        );
        // Frame 3: DPD, Cisco Unity (version 1.0), XAUTH.
        assert_eq!(
            VendorId(&hex!("afcad71368a1f1c96b8696fc77570100")).known(),
            Some(KnownVendor::Dpd)
        );
        assert_eq!(
            VendorId(&hex!("12f5f28c457168a9702d9fe274cc0100")).known(),
            Some(KnownVendor::CiscoUnity)
        );
        assert_eq!(
            VendorId(&hex!("09002689dfd6b712")).known(),
            Some(KnownVendor::Xauth)
        );
    }

    #[test]
    fn windows_markers() {
        let nt5 = hex!("1e2b516905991c7d7c96fcbfb587e461 00000009");
        assert_eq!(VendorId(&nt5).known(), Some(KnownVendor::MsNt5IsakmpOakley));
        assert_eq!(VendorId(&nt5).ms_nt5_version(), Some(9));
        let frag = hex!("4048b7d56ebce88525e7de7f00d6c2d3 80000000");
        assert_eq!(VendorId(&frag).known(), Some(KnownVendor::Fragmentation));
    }
}
