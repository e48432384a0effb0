//! The configuration: the Cisco ASA command subset of the L2TP-over-IPsec
//! chapter, as a plain data model ([`Config`]), a parser with line-numbered
//! errors ([`Config::parse`]) and the `show running-config` printer
//! ([`Config::write_running_config`]) whose output parses back to the same
//! model.
//!
//! The model holds what the commands say, with the appliance's defaults for
//! what they leave out. Names are case-sensitive (as on the appliance);
//! keywords are not.

use core::net::Ipv4Addr;

use heapless::{String, Vec};

use crate::secret::{AsaMd5Hash, NtHash, PreSharedKey, RadiusKey};

mod error;
mod parse;
mod print;

pub use error::{ConfigError, Context, ErrorKind, ModeKind, Snippet};
pub use parse::Notice;
pub use print::{RunningConfig, SecretDisplay};

/// Longest name of anything the configuration names (users, groups, pools,
/// transform sets, interfaces, ...): the appliance's limit for user names.
pub const NAME_LEN: usize = 64;

/// A configured name.
pub type Name = String<NAME_LEN>;

/// Capacities of the model. A configuration that needs more is refused with
/// [`ErrorKind::TooMany`], naming the line.
///
/// The feature `capacity-router` selects the smaller set below, for a small
/// router that serves one remote-access tunnel group (the firmware): it
/// makes the parsed configuration about a quarter of its default size. Like
/// smoltcp's capacity features it is not additive: it refuses
/// configurations that the default accepts.
#[cfg(not(feature = "capacity-router"))]
pub mod capacity {
    /// `ip local pool` entries.
    pub const POOLS: usize = 8;
    /// `crypto ipsec transform-set` entries.
    pub const TRANSFORM_SETS: usize = 8;
    /// `crypto dynamic-map` entries (name and sequence number).
    pub const DYNAMIC_MAPS: usize = 8;
    /// Transform sets named by one dynamic-map entry.
    pub const TRANSFORM_SETS_PER_MAP: usize = 6;
    /// `crypto map NAME SEQ` entries.
    pub const CRYPTO_MAPS: usize = 8;
    /// `crypto map NAME interface IF` bindings.
    pub const CRYPTO_MAP_INTERFACES: usize = 4;
    /// `crypto isakmp enable IF` interfaces.
    pub const ISAKMP_INTERFACES: usize = 4;
    /// `crypto isakmp policy N` entries.
    pub const ISAKMP_POLICIES: usize = 16;
    /// Group policies, `DfltGrpPolicy` included.
    pub const GROUP_POLICIES: usize = 8;
    /// Tunnel groups, `DefaultRAGroup` and `DefaultL2LGroup` included.
    pub const TUNNEL_GROUPS: usize = 12;
    /// Address pools named by one tunnel group or group policy (the appliance allows 6).
    pub const POOLS_PER_GROUP: usize = 6;
    /// Local users.
    pub const USERS: usize = 32;
    /// `aaa-server` groups.
    pub const AAA_GROUPS: usize = 4;
    /// Hosts in one `aaa-server` group.
    pub const AAA_HOSTS_PER_GROUP: usize = 4;
}

/// Capacities of the model (feature `capacity-router`: a small router with
/// one remote-access tunnel group). A configuration that needs more is
/// refused with [`ErrorKind::TooMany`], naming the line.
#[cfg(feature = "capacity-router")]
pub mod capacity {
    /// `ip local pool` entries.
    pub const POOLS: usize = 2;
    /// `crypto ipsec transform-set` entries.
    pub const TRANSFORM_SETS: usize = 4;
    /// `crypto dynamic-map` entries (name and sequence number).
    pub const DYNAMIC_MAPS: usize = 2;
    /// Transform sets named by one dynamic-map entry.
    pub const TRANSFORM_SETS_PER_MAP: usize = 4;
    /// `crypto map NAME SEQ` entries.
    pub const CRYPTO_MAPS: usize = 2;
    /// `crypto map NAME interface IF` bindings.
    pub const CRYPTO_MAP_INTERFACES: usize = 1;
    /// `crypto isakmp enable IF` interfaces.
    pub const ISAKMP_INTERFACES: usize = 1;
    /// `crypto isakmp policy N` entries.
    pub const ISAKMP_POLICIES: usize = 4;
    /// Group policies, `DfltGrpPolicy` included.
    pub const GROUP_POLICIES: usize = 2;
    /// Tunnel groups, `DefaultRAGroup` and `DefaultL2LGroup` included.
    pub const TUNNEL_GROUPS: usize = 3;
    /// Address pools named by one tunnel group or group policy.
    pub const POOLS_PER_GROUP: usize = 2;
    /// Local users.
    pub const USERS: usize = 16;
    /// `aaa-server` groups.
    pub const AAA_GROUPS: usize = 1;
    /// Hosts in one `aaa-server` group.
    pub const AAA_HOSTS_PER_GROUP: usize = 2;
}

/// The name of the default group policy every other one inherits from.
pub const DEFAULT_GROUP_POLICY: &str = "DfltGrpPolicy";
/// The remote-access tunnel group that a connection lands in unless
/// something selects another (a pre-shared-key client always does).
pub const DEFAULT_RA_GROUP: &str = "DefaultRAGroup";
/// The default LAN-to-LAN tunnel group.
pub const DEFAULT_L2L_GROUP: &str = "DefaultL2LGroup";

/// Default `l2tp tunnel hello` interval in seconds.
pub const DEFAULT_L2TP_HELLO: u16 = 60;
/// Default `crypto ipsec security-association lifetime seconds`.
pub const DEFAULT_SA_LIFETIME_SECONDS: u32 = 28_800;
/// Default `crypto ipsec security-association lifetime kilobytes`.
pub const DEFAULT_SA_LIFETIME_KILOBYTES: u32 = 4_608_000;
/// Default `crypto isakmp nat-traversal` keepalive in seconds.
pub const DEFAULT_NATT_KEEPALIVE: u16 = 20;
/// Default `crypto isakmp policy` lifetime in seconds.
pub const DEFAULT_ISAKMP_LIFETIME: u32 = 86_400;
/// Default RADIUS authentication port of the appliance (the pre-RFC 2865 port).
pub const DEFAULT_RADIUS_AUTH_PORT: u16 = 1645;
/// Default RADIUS accounting port of the appliance (the pre-RFC 2866 port).
pub const DEFAULT_RADIUS_ACCT_PORT: u16 = 1646;
/// Default `timeout` of an `aaa-server` host, in seconds.
pub const DEFAULT_AAA_TIMEOUT: u16 = 10;
/// Default `retry-interval` of an `aaa-server` host, in seconds.
pub const DEFAULT_AAA_RETRY_INTERVAL: u16 = 10;
/// Default `isakmp keepalive threshold` (seconds) of a tunnel group.
pub const DEFAULT_KEEPALIVE_THRESHOLD: u16 = 300;
/// Default `isakmp keepalive retry` (seconds) of a tunnel group.
pub const DEFAULT_KEEPALIVE_RETRY: u16 = 2;

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `ip local pool` entries, in the order configured.
    pub pools: Vec<IpLocalPool, { capacity::POOLS }>,
    /// `aaa-server` groups.
    pub aaa_groups: Vec<AaaServerGroup, { capacity::AAA_GROUPS }>,
    /// `crypto ipsec transform-set` entries.
    pub transform_sets: Vec<TransformSet, { capacity::TRANSFORM_SETS }>,
    /// `crypto ipsec security-association lifetime`.
    pub sa_lifetime: SaLifetime,
    /// `crypto dynamic-map` entries, sorted by name then sequence number.
    pub dynamic_maps: Vec<DynamicMapEntry, { capacity::DYNAMIC_MAPS }>,
    /// `crypto map NAME SEQ ipsec-isakmp dynamic DYN` entries.
    pub crypto_maps: Vec<CryptoMapEntry, { capacity::CRYPTO_MAPS }>,
    /// `crypto map NAME interface IF` bindings.
    pub crypto_map_interfaces: Vec<CryptoMapInterface, { capacity::CRYPTO_MAP_INTERFACES }>,
    /// `crypto isakmp enable IF`.
    pub isakmp_interfaces: Vec<Name, { capacity::ISAKMP_INTERFACES }>,
    /// `crypto isakmp policy N`, sorted by priority.
    pub isakmp_policies: Vec<IsakmpPolicy, { capacity::ISAKMP_POLICIES }>,
    /// `crypto isakmp nat-traversal [N]`: the keepalive interval when enabled.
    pub nat_traversal: Option<u16>,
    /// `crypto isakmp identity`, when configured.
    pub isakmp_identity: Option<IsakmpIdentity>,
    /// Group policies; `DfltGrpPolicy` is always first.
    pub group_policies: Vec<GroupPolicy, { capacity::GROUP_POLICIES }>,
    /// Local users.
    pub users: Vec<User, { capacity::USERS }>,
    /// Tunnel groups; `DefaultRAGroup` and `DefaultL2LGroup` are always first.
    pub tunnel_groups: Vec<TunnelGroup, { capacity::TUNNEL_GROUPS }>,
    /// `l2tp tunnel hello N`, seconds (10..=300).
    pub l2tp_hello: u16,
    /// `group-delimiter {@|#|!}`: the character separating a user name from
    /// a tunnel-group name (`user@group`). `None`: no tunnel-group switching.
    pub group_delimiter: Option<GroupDelimiter>,
    /// `aaa local authentication attempts max-fail N` (1..=16): a local
    /// user is locked out after N consecutive failed logins, until
    /// `clear aaa local user lockout`; users of privilege 15 are exempt.
    /// `None`: no limit (the appliance's default).
    pub local_max_fail: Option<u8>,
}

impl Default for Config {
    fn default() -> Self {
        let mut c = Config::EMPTY;
        c.reset();
        c
    }
}

impl Config {
    /// Nothing at all, not even the built-in `DfltGrpPolicy`,
    /// `DefaultRAGroup` and `DefaultL2LGroup` that [`Config::default`]
    /// and [`Config::reset`] put in (their names cannot be built in a
    /// `const`). It is what a gateway built at compile time starts from,
    /// before [`Config::load`] (which begins with [`Config::reset`]) fills
    /// it in place; as a configuration it serves nobody. All zero bytes
    /// (the lifetimes and the hello interval too, until `reset`), so that a
    /// gateway holding it can be in `.bss` (see the `zero-none` crate).
    pub const EMPTY: Config = Config {
        pools: Vec::new(),
        aaa_groups: Vec::new(),
        transform_sets: Vec::new(),
        sa_lifetime: SaLifetime {
            seconds: 0,
            kilobytes: 0,
        },
        dynamic_maps: Vec::new(),
        crypto_maps: Vec::new(),
        crypto_map_interfaces: Vec::new(),
        isakmp_interfaces: Vec::new(),
        isakmp_policies: Vec::new(),
        nat_traversal: None,
        isakmp_identity: None,
        group_policies: Vec::new(),
        users: Vec::new(),
        tunnel_groups: Vec::new(),
        l2tp_hello: 0,
        group_delimiter: None,
        local_max_fail: None,
    };

    /// Back to the appliance's defaults ([`Config::default`]), in place:
    /// every list is cleared and the built-in groups put back, so that a
    /// configuration inside a `static` is never moved through the stack.
    pub fn reset(&mut self) {
        // Exhaustive, so that a new field cannot be forgotten here.
        let Config {
            pools,
            aaa_groups,
            transform_sets,
            sa_lifetime,
            dynamic_maps,
            crypto_maps,
            crypto_map_interfaces,
            isakmp_interfaces,
            isakmp_policies,
            nat_traversal,
            isakmp_identity,
            group_policies,
            users,
            tunnel_groups,
            l2tp_hello,
            group_delimiter,
            local_max_fail,
        } = self;
        pools.clear();
        aaa_groups.clear();
        transform_sets.clear();
        *sa_lifetime = SaLifetime::DEFAULT;
        dynamic_maps.clear();
        crypto_maps.clear();
        crypto_map_interfaces.clear();
        isakmp_interfaces.clear();
        isakmp_policies.clear();
        *nat_traversal = None;
        *isakmp_identity = None;
        group_policies.clear();
        users.clear();
        tunnel_groups.clear();
        *l2tp_hello = DEFAULT_L2TP_HELLO;
        *group_delimiter = None;
        *local_max_fail = None;
        // Capacities are at least 2, so these pushes cannot fail.
        let _ = self
            .group_policies
            .push(GroupPolicy::new(name_of(DEFAULT_GROUP_POLICY)));
        let _ = self.tunnel_groups.push(TunnelGroup::new(
            name_of(DEFAULT_RA_GROUP),
            TunnelGroupType::RemoteAccess,
        ));
        let _ = self.tunnel_groups.push(TunnelGroup::new(
            name_of(DEFAULT_L2L_GROUP),
            TunnelGroupType::LanToLan,
        ));
    }
}

/// A name from a constant that is known to fit.
fn name_of(s: &str) -> Name {
    let mut n = Name::new();
    let _ = n.push_str(s);
    n
}

impl Config {
    /// The pool named `name`.
    pub fn pool(&self, name: &str) -> Option<&IpLocalPool> {
        self.pools.iter().find(|p| p.name == name)
    }

    /// The group policy named `name`.
    pub fn group_policy(&self, name: &str) -> Option<&GroupPolicy> {
        self.group_policies.iter().find(|p| p.name == name)
    }

    /// The default group policy (`DfltGrpPolicy`).
    pub fn default_group_policy(&self) -> &GroupPolicy {
        // Always present: `Config::default` creates it and nothing removes
        // it; only `Config::EMPTY` lacks it, which then sets nothing.
        static NOTHING: GroupPolicy = GroupPolicy {
            name: Name::new(),
            dns_servers: Servers::Inherit,
            wins_servers: Servers::Inherit,
            address_pools: Pools::Inherit,
            vpn: VpnAttributes {
                tunnel_protocols: None,
                idle_timeout: Minutes::Inherit,
                session_timeout: Minutes::Inherit,
                simultaneous_logins: None,
            },
        };
        self.group_policies.first().unwrap_or(&NOTHING)
    }

    /// The tunnel group named `name`.
    pub fn tunnel_group(&self, name: &str) -> Option<&TunnelGroup> {
        self.tunnel_groups.iter().find(|g| g.name == name)
    }

    /// The local user named `name` (exact, case-sensitive match).
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The `aaa-server` group named `name`.
    pub fn aaa_group(&self, name: &str) -> Option<&AaaServerGroup> {
        self.aaa_groups.iter().find(|g| g.name == name)
    }

    /// The transform set named `name`.
    pub fn transform_set(&self, name: &str) -> Option<&TransformSet> {
        self.transform_sets.iter().find(|t| t.name == name)
    }
}

/// `ip local pool NAME FIRST-LAST [mask MASK]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpLocalPool {
    /// Pool name.
    pub name: Name,
    /// First address (inclusive).
    pub first: Ipv4Addr,
    /// Last address (inclusive).
    pub last: Ipv4Addr,
    /// The mask given to clients; when present, the network and broadcast
    /// addresses of that mask are never handed out.
    pub mask: Option<Ipv4Addr>,
}

impl IpLocalPool {
    /// `true` if `addr` lies in `first..=last`.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        (u32::from(self.first)..=u32::from(self.last)).contains(&u32::from(addr))
    }

    /// `true` if `addr` may be handed out: in range and not the network or
    /// broadcast address of the mask.
    pub fn assignable(&self, addr: Ipv4Addr) -> bool {
        if !self.contains(addr) {
            return false;
        }
        match self.mask {
            Some(mask) => {
                let m = u32::from(mask);
                let a = u32::from(addr);
                // A /31 or /32 has no network or broadcast address to avoid.
                m >= 0xFFFF_FFFE || (a & !m != 0 && a & !m != !m)
            }
            None => true,
        }
    }
}

/// ESP encryption of a transform set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EspEncryption {
    /// `esp-des` (RFC 2405; broken, for old peers only).
    Des,
    /// `esp-3des` (RFC 2451).
    TripleDes,
    /// `esp-aes`: AES-CBC-128 (RFC 3602).
    Aes128,
    /// `esp-aes-192`.
    Aes192,
    /// `esp-aes-256`.
    Aes256,
    /// `esp-null` (RFC 2410).
    Null,
}

impl EspEncryption {
    /// The configuration keyword.
    pub const fn keyword(self) -> &'static str {
        match self {
            EspEncryption::Des => "esp-des",
            EspEncryption::TripleDes => "esp-3des",
            EspEncryption::Aes128 => "esp-aes",
            EspEncryption::Aes192 => "esp-aes-192",
            EspEncryption::Aes256 => "esp-aes-256",
            EspEncryption::Null => "esp-null",
        }
    }
}

/// ESP integrity of a transform set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EspIntegrity {
    /// `esp-md5-hmac`: HMAC-MD5-96 (RFC 2403).
    Md5,
    /// `esp-sha-hmac`: HMAC-SHA1-96 (RFC 2404).
    Sha1,
    /// `esp-sha256-hmac`: HMAC-SHA-256-128 (RFC 4868).
    Sha256,
    /// `esp-none`.
    None,
}

impl EspIntegrity {
    /// The configuration keyword.
    pub const fn keyword(self) -> &'static str {
        match self {
            EspIntegrity::Md5 => "esp-md5-hmac",
            EspIntegrity::Sha1 => "esp-sha-hmac",
            EspIntegrity::Sha256 => "esp-sha256-hmac",
            EspIntegrity::None => "esp-none",
        }
    }
}

/// IPsec encapsulation mode of a transform set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpsecMode {
    /// Tunnel mode, the appliance's default.
    Tunnel,
    /// Transport mode, which L2TP/IPsec clients require (the chapter's step 1).
    Transport,
}

/// `crypto ipsec transform-set NAME ENC AUTH` and `... NAME mode transport`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformSet {
    /// Transform-set name.
    pub name: Name,
    /// ESP encryption.
    pub encryption: EspEncryption,
    /// ESP integrity.
    pub integrity: EspIntegrity,
    /// Encapsulation mode.
    pub mode: IpsecMode,
}

/// `crypto ipsec security-association lifetime {seconds N | kilobytes N}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaLifetime {
    /// Seconds (120..=2147483647).
    pub seconds: u32,
    /// Kilobytes (10..=2147483647).
    pub kilobytes: u32,
}

impl SaLifetime {
    /// The appliance's default (what `Default` gives).
    pub const DEFAULT: SaLifetime = SaLifetime {
        seconds: DEFAULT_SA_LIFETIME_SECONDS,
        kilobytes: DEFAULT_SA_LIFETIME_KILOBYTES,
    };
}

impl Default for SaLifetime {
    fn default() -> Self {
        SaLifetime::DEFAULT
    }
}

/// A Diffie-Hellman group (RFC 2409 §6, RFC 3526, RFC 5903).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhGroup {
    /// MODP 768 (RFC 2409 §6.1).
    Group1,
    /// MODP 1024 (RFC 2409 §6.2).
    Group2,
    /// MODP 1536 (RFC 3526 §2).
    Group5,
    /// MODP 2048 (RFC 3526 §3).
    Group14,
    /// ECP 256 (RFC 5903).
    Group19,
    /// ECP 384 (RFC 5903).
    Group20,
}

impl DhGroup {
    /// The group number.
    pub const fn number(self) -> u8 {
        match self {
            DhGroup::Group1 => 1,
            DhGroup::Group2 => 2,
            DhGroup::Group5 => 5,
            DhGroup::Group14 => 14,
            DhGroup::Group19 => 19,
            DhGroup::Group20 => 20,
        }
    }

    /// The group with this number.
    pub const fn from_number(n: u32) -> Option<Self> {
        Some(match n {
            1 => DhGroup::Group1,
            2 => DhGroup::Group2,
            5 => DhGroup::Group5,
            14 => DhGroup::Group14,
            19 => DhGroup::Group19,
            20 => DhGroup::Group20,
            _ => return None,
        })
    }
}

/// One `crypto dynamic-map NAME SEQ ...` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynamicMapEntry {
    /// Dynamic map name.
    pub name: Name,
    /// Sequence number (1..=65535).
    pub seq: u16,
    /// `set transform-set T...`, in preference order.
    pub transform_sets: Vec<Name, { capacity::TRANSFORM_SETS_PER_MAP }>,
    /// `set pfs [groupN]`.
    pub pfs: Option<DhGroup>,
}

/// One `crypto map NAME SEQ ipsec-isakmp dynamic DYN` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CryptoMapEntry {
    /// Crypto map name.
    pub name: Name,
    /// Sequence number (1..=65535).
    pub seq: u16,
    /// The dynamic map it instantiates.
    pub dynamic_map: Name,
}

/// `crypto map NAME interface IF`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CryptoMapInterface {
    /// Crypto map name.
    pub map: Name,
    /// Interface name (`nameif`).
    pub interface: Name,
}

/// IKE authentication method (`authentication` of `crypto isakmp policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IkeAuthentication {
    /// `pre-share`.
    PreShare,
    /// `rsa-sig` (the appliance's default).
    RsaSig,
}

/// IKE encryption (`encryption` of `crypto isakmp policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IkeEncryption {
    /// `des`.
    Des,
    /// `3des` (the appliance's default).
    TripleDes,
    /// `aes` (128-bit).
    Aes128,
    /// `aes-192`.
    Aes192,
    /// `aes-256`.
    Aes256,
}

impl IkeEncryption {
    /// The configuration keyword.
    pub const fn keyword(self) -> &'static str {
        match self {
            IkeEncryption::Des => "des",
            IkeEncryption::TripleDes => "3des",
            IkeEncryption::Aes128 => "aes",
            IkeEncryption::Aes192 => "aes-192",
            IkeEncryption::Aes256 => "aes-256",
        }
    }
}

/// IKE hash (`hash` of `crypto isakmp policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IkeHash {
    /// `md5`.
    Md5,
    /// `sha` (SHA-1, the appliance's default).
    Sha1,
    /// `sha256`.
    Sha256,
}

impl IkeHash {
    /// The configuration keyword.
    pub const fn keyword(self) -> &'static str {
        match self {
            IkeHash::Md5 => "md5",
            IkeHash::Sha1 => "sha",
            IkeHash::Sha256 => "sha256",
        }
    }
}

/// `crypto isakmp policy N` and its attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsakmpPolicy {
    /// Priority (1..=65535); lower is preferred.
    pub priority: u16,
    /// `authentication`.
    pub authentication: IkeAuthentication,
    /// `encryption`.
    pub encryption: IkeEncryption,
    /// `hash`.
    pub hash: IkeHash,
    /// `group`.
    pub group: DhGroup,
    /// `lifetime` in seconds (120..=2147483647).
    pub lifetime: u32,
}

impl IsakmpPolicy {
    /// A policy with the appliance's defaults.
    pub const fn new(priority: u16) -> Self {
        IsakmpPolicy {
            priority,
            authentication: IkeAuthentication::RsaSig,
            encryption: IkeEncryption::TripleDes,
            hash: IkeHash::Sha1,
            group: DhGroup::Group2,
            lifetime: DEFAULT_ISAKMP_LIFETIME,
        }
    }
}

/// `group-delimiter {@|#|!}`: the character between a user name and a
/// tunnel-group name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupDelimiter {
    /// `@`.
    // From 1, so that `Option::None` is zero (an empty `Config` is all
    // zero bytes, see the `zero-none` crate).
    At = 1,
    /// `#`.
    Hash,
    /// `!`.
    Bang,
}

impl GroupDelimiter {
    /// The character.
    pub const fn as_char(self) -> char {
        match self {
            Self::At => '@',
            Self::Hash => '#',
            Self::Bang => '!',
        }
    }
}

/// `crypto isakmp identity {address | hostname | key-id ID | auto}`.
#[derive(Clone, Debug, PartialEq, Eq)]
// An explicit tag from 1, so that `Option::None` is zero (an empty
// `Config` is all zero bytes, see the `zero-none` crate).
#[repr(u8)]
pub enum IsakmpIdentity {
    /// `address`: ID_IPV4_ADDR.
    Address = 1,
    /// `hostname`: ID_FQDN.
    Hostname,
    /// `key-id ID`: ID_KEY_ID.
    KeyId(Name),
    /// `auto`: by the authentication method.
    Auto,
}

/// An inheritable list of at most two server addresses
/// (`dns-server` / `wins-server`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Servers {
    /// Not configured here: inherited.
    #[default]
    Inherit,
    /// `none`: explicitly no servers (stops inheritance).
    None,
    /// `value A [B]`.
    Value(Ipv4Addr, Option<Ipv4Addr>),
}

/// An inheritable minutes value (`vpn-idle-timeout`, `vpn-session-timeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Minutes {
    /// Not configured here: inherited.
    #[default]
    Inherit,
    /// `none`: no limit (stops inheritance).
    Unlimited,
    /// A limit in minutes.
    Limit(u32),
}

/// A set of VPN tunnel protocols (`vpn-tunnel-protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ProtocolSet(u8);

/// One VPN tunnel protocol keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TunnelProtocol {
    /// `IPSec` (IPsec remote access with the Cisco client; `ikev1` in 8.4+).
    Ipsec,
    /// `l2tp-ipsec`: what this gateway serves.
    L2tpIpsec,
    /// `webvpn` (clientless SSL VPN).
    Webvpn,
    /// `svc` (the SSL VPN client).
    Svc,
    /// `ikev2`.
    Ikev2,
}

impl TunnelProtocol {
    /// All protocols, in the order the appliance prints them.
    pub const ALL: [TunnelProtocol; 5] = [
        TunnelProtocol::Ipsec,
        TunnelProtocol::L2tpIpsec,
        TunnelProtocol::Svc,
        TunnelProtocol::Webvpn,
        TunnelProtocol::Ikev2,
    ];

    /// The keyword `show running-config` prints.
    pub const fn keyword(self) -> &'static str {
        match self {
            TunnelProtocol::Ipsec => "IPSec",
            TunnelProtocol::L2tpIpsec => "l2tp-ipsec",
            TunnelProtocol::Webvpn => "webvpn",
            TunnelProtocol::Svc => "svc",
            TunnelProtocol::Ikev2 => "ikev2",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            TunnelProtocol::Ipsec => 1,
            TunnelProtocol::L2tpIpsec => 2,
            TunnelProtocol::Webvpn => 4,
            TunnelProtocol::Svc => 8,
            TunnelProtocol::Ikev2 => 16,
        }
    }
}

impl ProtocolSet {
    /// The empty set.
    pub const EMPTY: ProtocolSet = ProtocolSet(0);

    /// The set with `p` added.
    pub const fn with(self, p: TunnelProtocol) -> Self {
        ProtocolSet(self.0 | p.bit())
    }

    /// `true` if `p` is in the set.
    pub const fn contains(self, p: TunnelProtocol) -> bool {
        self.0 & p.bit() != 0
    }

    /// `true` for the empty set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in printing order.
    pub fn iter(self) -> impl Iterator<Item = TunnelProtocol> {
        TunnelProtocol::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }
}

/// The built-in `vpn-tunnel-protocol` of `DfltGrpPolicy`: `IPSec webvpn`.
/// L2TP over IPsec is not permitted until configured, which is why the
/// chapter's step 6 (not marked optional) enables it.
pub const DEFAULT_TUNNEL_PROTOCOLS: ProtocolSet = ProtocolSet::EMPTY
    .with(TunnelProtocol::Ipsec)
    .with(TunnelProtocol::Webvpn);
/// The built-in `vpn-simultaneous-logins` of `DfltGrpPolicy`.
pub const DEFAULT_SIMULTANEOUS_LOGINS: u32 = 3;
/// The built-in `vpn-idle-timeout` of `DfltGrpPolicy`, minutes.
pub const DEFAULT_IDLE_TIMEOUT_MINUTES: u32 = 30;

/// An inheritable list of pool names (`address-pools`).
// Fixed capacity inline is the point (no allocator): the size difference is accepted.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Pools {
    /// Not configured here: inherited.
    #[default]
    Inherit,
    /// `none`: explicitly none (the tunnel group's pools apply).
    None,
    /// `value P...`.
    Value(Vec<Name, { capacity::POOLS_PER_GROUP }>),
}

/// The attributes that a group policy and a user may both set.
/// Every field is inheritable; `None` means "not set here".
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct VpnAttributes {
    /// `vpn-tunnel-protocol`.
    pub tunnel_protocols: Option<ProtocolSet>,
    /// `vpn-idle-timeout`.
    pub idle_timeout: Minutes,
    /// `vpn-session-timeout`.
    pub session_timeout: Minutes,
    /// `vpn-simultaneous-logins` (0 forbids logging in).
    pub simultaneous_logins: Option<u32>,
}

/// `group-policy NAME internal` and its `attributes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupPolicy {
    /// Policy name.
    pub name: Name,
    /// `dns-server` (the chapter writes `dns`).
    pub dns_servers: Servers,
    /// `wins-server`.
    pub wins_servers: Servers,
    /// `address-pools`.
    pub address_pools: Pools,
    /// The VPN attributes.
    pub vpn: VpnAttributes,
}

impl GroupPolicy {
    /// A policy that sets nothing (inherits everything).
    pub fn new(name: Name) -> Self {
        GroupPolicy {
            name,
            dns_servers: Servers::Inherit,
            wins_servers: Servers::Inherit,
            address_pools: Pools::Inherit,
            vpn: VpnAttributes::default(),
        }
    }

    /// `true` if no attribute is set.
    pub fn is_empty(&self) -> bool {
        *self == GroupPolicy::new(self.name.clone())
    }
}

/// A PPP authentication protocol a tunnel group may allow
/// (`ppp-attributes` / `authentication`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PppAuth {
    /// `pap` (RFC 1334).
    Pap,
    /// `chap`: CHAP-MD5 (RFC 1994).
    Chap,
    /// `ms-chap-v1` (RFC 2433).
    MsChapV1,
    /// `ms-chap-v2` (RFC 2759).
    MsChapV2,
    /// `eap-proxy`: EAP (RFC 3748) relayed to a RADIUS server (RFC 3579).
    EapProxy,
}

impl PppAuth {
    /// All methods, in the order the appliance prints them.
    pub const ALL: [PppAuth; 5] = [
        PppAuth::Pap,
        PppAuth::Chap,
        PppAuth::MsChapV1,
        PppAuth::MsChapV2,
        PppAuth::EapProxy,
    ];

    /// The configuration keyword.
    pub const fn keyword(self) -> &'static str {
        match self {
            PppAuth::Pap => "pap",
            PppAuth::Chap => "chap",
            PppAuth::MsChapV1 => "ms-chap-v1",
            PppAuth::MsChapV2 => "ms-chap-v2",
            PppAuth::EapProxy => "eap-proxy",
        }
    }

    /// The name `show vpn-sessiondb detail` prints as `Auth Mode`.
    pub const fn display_name(self) -> &'static str {
        match self {
            PppAuth::Pap => "PAP",
            PppAuth::Chap => "CHAP",
            PppAuth::MsChapV1 => "MSCHAPV1",
            PppAuth::MsChapV2 => "MSCHAPV2",
            PppAuth::EapProxy => "EAP",
        }
    }

    /// `true` if the local user database can check this method itself.
    /// The chapter (step 9 note): the local database serves PAP and
    /// MS-CHAPv1/v2 only; CHAP and EAP need a proxy authentication server.
    pub const fn local_database_can_serve(self) -> bool {
        matches!(self, PppAuth::Pap | PppAuth::MsChapV1 | PppAuth::MsChapV2)
    }

    const fn bit(self) -> u8 {
        match self {
            PppAuth::Pap => 1,
            PppAuth::Chap => 2,
            PppAuth::MsChapV1 => 4,
            PppAuth::MsChapV2 => 8,
            PppAuth::EapProxy => 16,
        }
    }
}

/// A set of PPP authentication protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthSet(u8);

impl AuthSet {
    /// The empty set.
    pub const EMPTY: AuthSet = AuthSet(0);
    /// The appliance's default for a tunnel group: CHAP and MS-CHAPv1.
    pub const DEFAULT: AuthSet = AuthSet::EMPTY.with(PppAuth::Chap).with(PppAuth::MsChapV1);

    /// The set with `a` added.
    pub const fn with(self, a: PppAuth) -> Self {
        AuthSet(self.0 | a.bit())
    }

    /// The set without `a`.
    pub const fn without(self, a: PppAuth) -> Self {
        AuthSet(self.0 & !a.bit())
    }

    /// `true` if `a` is in the set.
    pub const fn contains(self, a: PppAuth) -> bool {
        self.0 & a.bit() != 0
    }

    /// `true` for the empty set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members in the order the appliance prints them.
    pub fn iter(self) -> impl Iterator<Item = PppAuth> {
        PppAuth::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl Default for AuthSet {
    fn default() -> Self {
        AuthSet::DEFAULT
    }
}

/// `tunnel-group NAME type ...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelGroupType {
    /// `remote-access` (the chapter's `ipsec-ra` is the older spelling).
    RemoteAccess,
    /// `ipsec-l2l`: LAN-to-LAN, never used for L2TP/IPsec.
    LanToLan,
}

/// `authentication-server-group`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthServer {
    /// `LOCAL`: the local user database (the default).
    Local,
    /// An `aaa-server` group, optionally falling back to `LOCAL` when no
    /// server of the group answers.
    Group {
        /// The `aaa-server` group.
        name: Name,
        /// `... G LOCAL`.
        fallback_local: bool,
    },
}

/// `isakmp keepalive` of a tunnel group (DPD, RFC 3706).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsakmpKeepalive {
    /// `isakmp keepalive disable`.
    Disabled,
    /// `isakmp keepalive threshold N retry M`.
    Enabled {
        /// Seconds of silence before probing (10..=3600).
        threshold: u16,
        /// Seconds between probes (2..=10).
        retry: u16,
    },
}

impl Default for IsakmpKeepalive {
    fn default() -> Self {
        IsakmpKeepalive::Enabled {
            threshold: DEFAULT_KEEPALIVE_THRESHOLD,
            retry: DEFAULT_KEEPALIVE_RETRY,
        }
    }
}

/// A tunnel group (connection profile) with its three attribute modes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelGroup {
    /// Tunnel-group name.
    pub name: Name,
    /// `type`.
    pub kind: TunnelGroupType,
    /// `general-attributes` / `address-pool`.
    pub address_pools: Vec<Name, { capacity::POOLS_PER_GROUP }>,
    /// `general-attributes` / `authentication-server-group`.
    pub authentication_server: AuthServer,
    /// `general-attributes` / `accounting-server-group`.
    pub accounting_server_group: Option<Name>,
    /// `general-attributes` / `default-group-policy` (the chapter's `group-policy`).
    pub default_group_policy: Name,
    /// `general-attributes` / `strip-group`.
    pub strip_group: bool,
    /// `general-attributes` / `strip-realm`.
    pub strip_realm: bool,
    /// `ipsec-attributes` / `pre-shared-key` (`ikev1 pre-shared-key`).
    pub pre_shared_key: Option<PreSharedKey>,
    /// `ipsec-attributes` / `trust-point` (`ikev1 trust-point`).
    pub trust_point: Option<Name>,
    /// `ipsec-attributes` / `isakmp keepalive`.
    pub isakmp_keepalive: IsakmpKeepalive,
    /// `ppp-attributes` / `authentication`.
    pub ppp_authentication: AuthSet,
}

impl TunnelGroup {
    /// A tunnel group with the appliance's defaults.
    pub fn new(name: Name, kind: TunnelGroupType) -> Self {
        TunnelGroup {
            name,
            kind,
            address_pools: Vec::new(),
            authentication_server: AuthServer::Local,
            accounting_server_group: None,
            default_group_policy: name_of(DEFAULT_GROUP_POLICY),
            strip_group: false,
            strip_realm: false,
            pre_shared_key: None,
            trust_point: None,
            isakmp_keepalive: IsakmpKeepalive::default(),
            ppp_authentication: AuthSet::DEFAULT,
        }
    }

    /// `true` for the two groups that exist without being configured.
    pub fn is_builtin(&self) -> bool {
        self.name == DEFAULT_RA_GROUP || self.name == DEFAULT_L2L_GROUP
    }
}

/// How a local user's password is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    /// `nopassword`: the user cannot authenticate by password.
    None,
    /// The appliance's `encrypted` form (from `password PW`).
    Encrypted(AsaMd5Hash),
    /// The NT hash, printed as `nt-encrypted` (from `password PW mschap`).
    NtEncrypted(NtHash),
}

/// `username NAME ...` and its `attributes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// User name.
    pub name: Name,
    /// Stored password.
    pub password: Password,
    /// `privilege N` (0..=15, default 2).
    pub privilege: u8,
    /// `vpn-group-policy`.
    pub group_policy: Option<Name>,
    /// `vpn-framed-ip-address IP [MASK]`: a static address for this user.
    pub framed_ip: Option<(Ipv4Addr, Option<Ipv4Addr>)>,
    /// `group-lock value TG`: the only tunnel group this user may use.
    pub group_lock: Option<Name>,
    /// The VPN attributes, overriding the group policy's.
    pub vpn: VpnAttributes,
}

impl Config {
    /// Whether local user number `user` (an index into `users`) with
    /// `failures` consecutive failed logins is locked out by
    /// `aaa local authentication attempts max-fail N`: at `N` failures,
    /// unless the user has privilege 15, as on the appliance.
    pub fn local_user_locked(&self, user: usize, failures: u8) -> bool {
        let exempt = self.users.get(user).is_none_or(|u| u.privilege >= 15);
        self.local_max_fail
            .is_some_and(|max| !exempt && failures >= max)
    }
}

impl User {
    /// `true` if the user has an attribute set (needs an `attributes` block).
    pub fn has_attributes(&self) -> bool {
        self.group_policy.is_some()
            || self.framed_ip.is_some()
            || self.group_lock.is_some()
            || self.vpn != VpnAttributes::default()
    }

    /// Checks a PAP password (RFC 1334 §2.2.1) in constant time.
    pub fn verify_pap(&self, password: &[u8]) -> bool {
        match &self.password {
            Password::None => false,
            Password::Encrypted(h) => h.verify(password, &self.name),
            Password::NtEncrypted(h) => match core::str::from_utf8(password) {
                Ok(p) => h.verify(p),
                Err(_) => false,
            },
        }
    }

    /// The NT hash MS-CHAPv1/v2 need, if the password was stored with `mschap`.
    pub fn nt_hash(&self) -> Option<&NtHash> {
        match &self.password {
            Password::NtEncrypted(h) => Some(h),
            _ => None,
        }
    }
}

/// `aaa-server G protocol {radius | tacacs+}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AaaProtocol {
    /// RADIUS (RFC 2865/2866).
    Radius,
    /// TACACS+ (accepted in the configuration; not served by this gateway).
    TacacsPlus,
}

/// `aaa-server G (IF) host IP` and its attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AaaServerHost {
    /// The interface the server is reached through.
    pub interface: Name,
    /// Server address.
    pub address: Ipv4Addr,
    /// `key`.
    pub key: Option<RadiusKey>,
    /// `authentication-port`.
    pub authentication_port: u16,
    /// `accounting-port`.
    pub accounting_port: u16,
    /// `timeout` in seconds (1..=300).
    pub timeout: u16,
    /// `retry-interval` in seconds (1..=10).
    pub retry_interval: u16,
}

impl AaaServerHost {
    /// A host with the appliance's defaults.
    pub fn new(interface: Name, address: Ipv4Addr) -> Self {
        AaaServerHost {
            interface,
            address,
            key: None,
            authentication_port: DEFAULT_RADIUS_AUTH_PORT,
            accounting_port: DEFAULT_RADIUS_ACCT_PORT,
            timeout: DEFAULT_AAA_TIMEOUT,
            retry_interval: DEFAULT_AAA_RETRY_INTERVAL,
        }
    }
}

/// An `aaa-server` group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AaaServerGroup {
    /// Group name.
    pub name: Name,
    /// Protocol.
    pub protocol: AaaProtocol,
    /// Hosts, tried in order.
    pub hosts: Vec<AaaServerHost, { capacity::AAA_HOSTS_PER_GROUP }>,
    /// `interim-accounting-update [periodic [hours]]`.
    pub interim_update: Option<InterimUpdate>,
}

/// When the group's accounting sends Interim-Update (RFC 2869 §5.1,
/// `Acct-Status-Type` 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InterimUpdate {
    /// `interim-accounting-update`: when a session gets another address.
    /// An L2TP session has one address for its life, so this sends nothing
    /// for L2TP over IPsec; it is kept for `show running-config`.
    AddressChange,
    /// `interim-accounting-update periodic [hours]`: every `hours` (1 to
    /// 120, 24 when omitted) for every session.
    Periodic {
        /// The interval in hours.
        hours: u8,
    },
}
