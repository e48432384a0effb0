//! RADIUS code points, each an enum with an `Unknown(n)` variant.

macro_rules! code_points {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate has no name for.
            Unknown($repr),
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                match value {
                    $( $value => Self::$variant, )*
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )*
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

code_points! {
    /// Packet codes (RFC 2865 §3, RFC 2866 §3, RFC 5997).
    pub enum Code: u8 {
        /// 1
        AccessRequest = 1,
        /// 2
        AccessAccept = 2,
        /// 3
        AccessReject = 3,
        /// 4 (RFC 2866)
        AccountingRequest = 4,
        /// 5 (RFC 2866)
        AccountingResponse = 5,
        /// 11
        AccessChallenge = 11,
        /// 12 (RFC 5997)
        StatusServer = 12,
        /// 13
        StatusClient = 13,
    }
}

code_points! {
    /// Attribute types (RFC 2865 §5, RFC 2866 §5, RFC 2868 §3, RFC 2869 §5,
    /// RFC 3579 §3).
    pub enum AttributeType: u8 {
        /// 1
        UserName = 1,
        /// 2, hidden with the shared secret (RFC 2865 §5.2)
        UserPassword = 2,
        /// 3
        ChapPassword = 3,
        /// 4
        NasIpAddress = 4,
        /// 5
        NasPort = 5,
        /// 6
        ServiceType = 6,
        /// 7
        FramedProtocol = 7,
        /// 8
        FramedIpAddress = 8,
        /// 9
        FramedIpNetmask = 9,
        /// 11
        FilterId = 11,
        /// 12
        FramedMtu = 12,
        /// 18
        ReplyMessage = 18,
        /// 24
        State = 24,
        /// 25
        Class = 25,
        /// 26
        VendorSpecific = 26,
        /// 27
        SessionTimeout = 27,
        /// 28
        IdleTimeout = 28,
        /// 29
        TerminationAction = 29,
        /// 30
        CalledStationId = 30,
        /// 31
        CallingStationId = 31,
        /// 32
        NasIdentifier = 32,
        /// 33
        ProxyState = 33,
        /// 40 (RFC 2866)
        AcctStatusType = 40,
        /// 41
        AcctDelayTime = 41,
        /// 42
        AcctInputOctets = 42,
        /// 43
        AcctOutputOctets = 43,
        /// 44
        AcctSessionId = 44,
        /// 45
        AcctAuthentic = 45,
        /// 46
        AcctSessionTime = 46,
        /// 47
        AcctInputPackets = 47,
        /// 48
        AcctOutputPackets = 48,
        /// 49
        AcctTerminateCause = 49,
        /// 50
        AcctMultiSessionId = 50,
        /// 52 (RFC 2869)
        AcctInputGigawords = 52,
        /// 53 (RFC 2869)
        AcctOutputGigawords = 53,
        /// 55 (RFC 2869)
        EventTimestamp = 55,
        /// 60
        ChapChallenge = 60,
        /// 61
        NasPortType = 61,
        /// 64 (RFC 2868)
        TunnelType = 64,
        /// 65 (RFC 2868)
        TunnelMediumType = 65,
        /// 66 (RFC 2868)
        TunnelClientEndpoint = 66,
        /// 67 (RFC 2868)
        TunnelServerEndpoint = 67,
        /// 77 (RFC 2869)
        ConnectInfo = 77,
        /// 79 (RFC 3579)
        EapMessage = 79,
        /// 80 (RFC 3579)
        MessageAuthenticator = 80,
        /// 85 (RFC 2869)
        AcctInterimInterval = 85,
        /// 87 (RFC 2869)
        NasPortId = 87,
        /// 88 (RFC 2869)
        FramedPool = 88,
    }
}

code_points! {
    /// Microsoft vendor attribute types (RFC 2548 §2), vendor 311.
    pub enum MsAttributeType: u8 {
        /// 1: Ident, Flags, LM-Response (24), NT-Response (24)
        MsChapResponse = 1,
        /// 2: Ident, "E=... R=... C=... V=... M=..."
        MsChapError = 2,
        /// 10
        MsChapDomain = 10,
        /// 11: the authenticator's challenge (8 octets for v1, 16 for v2)
        MsChapChallenge = 11,
        /// 25: Ident, Flags, Peer-Challenge (16), Reserved (8), NT-Response (24)
        MsChap2Response = 25,
        /// 26: Ident, "S=<40 hex digits>"
        MsChap2Success = 26,
        /// 28
        MsPrimaryDnsServer = 28,
        /// 29
        MsSecondaryDnsServer = 29,
        /// 30
        MsPrimaryNbnsServer = 30,
        /// 31
        MsSecondaryNbnsServer = 31,
    }
}

code_points! {
    /// Acct-Status-Type values (RFC 2866 §5.1, RFC 2869 §2.1).
    pub enum AcctStatusType: u32 {
        /// 1
        Start = 1,
        /// 2
        Stop = 2,
        /// 3 (RFC 2869)
        InterimUpdate = 3,
        /// 7
        AccountingOn = 7,
        /// 8
        AccountingOff = 8,
    }
}

code_points! {
    /// Acct-Terminate-Cause values (RFC 2866 §5.10).
    pub enum AcctTerminateCause: u32 {
        /// 1: the user ended the session (PPP Terminate, L2TP/IKE teardown by the client)
        UserRequest = 1,
        /// 2: the link went away (DPD, retransmissions exhausted)
        LostCarrier = 2,
        /// 3
        LostService = 3,
        /// 4
        IdleTimeout = 4,
        /// 5
        SessionTimeout = 5,
        /// 6: an operator logged the session off
        AdminReset = 6,
        /// 7
        AdminReboot = 7,
        /// 8
        PortError = 8,
        /// 9
        NasError = 9,
        /// 10: the NAS ended it for another reason (e.g. a configuration change)
        NasRequest = 10,
        /// 11
        NasReboot = 11,
        /// 15
        ServiceUnavailable = 15,
        /// 17
        UserError = 17,
    }
}
