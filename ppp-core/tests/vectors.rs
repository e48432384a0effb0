//! The MS-CHAP known-answer files of `testdata/vectors/`, read as they are:
//! RFC 2759 §9.2 and §9.3, RFC 2433 Appendix B.2 and B.3, and the real
//! PPTP MS-CHAP-V2 handshake of chapcrack (values only).

use ppp_core::crypto::{self, NtHash};
use ppp_core::wire::chap::{MsChapV2Response, SuccessMessage};
use testkit::vectors::{Table, bytes, load, string};

fn section<'a>(t: &'a Table, name: &str) -> &'a Table {
    t[name].as_table().unwrap()
}

fn arr<const N: usize>(v: Vec<u8>) -> [u8; N] {
    v.try_into().unwrap()
}

#[test]
fn rfc2759_section_9() {
    let file = load("rfc2759-mschapv2.toml");
    let v = section(&file, "rfc2759_9_2");
    let user = bytes(v, "user_name");
    let auth_ch: [u8; 16] = arr(bytes(v, "authenticator_challenge"));
    let peer_ch: [u8; 16] = arr(bytes(v, "peer_challenge"));
    let h = NtHash::from_password(string(v, "password_ascii"));
    assert_eq!(h.as_bytes().to_vec(), bytes(v, "password_hash"));
    assert_eq!(h.hash().as_bytes().to_vec(), bytes(v, "password_hash_hash"));
    assert_eq!(
        crypto::challenge_hash(&peer_ch, &auth_ch, &user).to_vec(),
        bytes(v, "challenge")
    );
    let nt = crypto::mschap_v2_nt_response(&auth_ch, &peer_ch, &user, &h);
    assert_eq!(nt.to_vec(), bytes(v, "nt_response"));
    let s = crypto::authenticator_response(&h, &nt, &peer_ch, &auth_ch, &user);
    let text = string(v, "authenticator_response");
    assert_eq!(
        SuccessMessage::parse(text.as_bytes())
            .unwrap()
            .authenticator_response,
        s
    );

    let k = section(&file, "rfc2759_9_3");
    let h = NtHash::from_password(string(k, "password_ascii"));
    assert_eq!(h.as_bytes().to_vec(), bytes(k, "password_hash"));
    for n in ["1", "2"] {
        let raw: [u8; 7] = arr(bytes(k, &format!("raw_des_key_{n}")));
        assert_eq!(
            crypto::des_key_with_parity(&raw).to_vec(),
            bytes(k, &format!("parity_des_key_{n}"))
        );
    }
}

#[test]
fn rfc2759_real_pptp_handshake() {
    let file = load("rfc2759-mschapv2.toml");
    let v = section(&file, "capture_chapcrack_pptp");
    let user = string(v, "user_name_ascii").as_bytes();
    let h = NtHash::from_password(string(v, "password_ascii"));
    let auth_ch: [u8; 16] = arr(bytes(v, "authenticator_challenge"));
    let r = MsChapV2Response::parse(&bytes(v, "response_value_49")).unwrap();
    assert_eq!(r.peer_challenge.to_vec(), bytes(v, "peer_challenge"));
    assert_eq!(r.nt_response.to_vec(), bytes(v, "nt_response"));
    let s =
        crypto::verify_mschap_v2(&h, &auth_ch, &r.peer_challenge, user, &r.nt_response).unwrap();
    let success = SuccessMessage::parse(string(v, "success_message").as_bytes()).unwrap();
    assert_eq!(s, success.authenticator_response);
    // Our Success message is the captured one, byte for byte.
    let mut out = vec![0u8; success.buffer_len()];
    SuccessMessage {
        authenticator_response: s,
        message: b"Access granted",
    }
    .emit(&mut out);
    assert_eq!(out, string(v, "success_message").as_bytes());
}

#[test]
fn rfc2433_appendix_b() {
    let file = load("rfc2433-mschapv1.toml");
    let v = section(&file, "rfc2433_b_2");
    assert_eq!(
        bytes(v, "nt_password_unicode"),
        "MyPw"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<_>>()
    );
    let h = NtHash::from_password("MyPw");
    assert_eq!(h.as_bytes().to_vec(), bytes(v, "nt_password_hash"));
    let c: [u8; 8] = arr(bytes(v, "challenge"));
    let nt = crypto::mschap_v1_nt_response(&c, &h);
    assert_eq!(nt.to_vec(), bytes(v, "nt_challenge_response"));
    assert!(crypto::verify_mschap_v1(&h, &c, &nt, true));

    let k = section(&file, "rfc2433_b_3");
    for n in ["1", "2"] {
        let raw: [u8; 7] = arr(bytes(k, &format!("raw_des_key_{n}")));
        assert_eq!(
            crypto::des_key_with_parity(&raw).to_vec(),
            bytes(k, &format!("parity_des_key_{n}"))
        );
    }
}
