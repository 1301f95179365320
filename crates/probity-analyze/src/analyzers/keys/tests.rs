//! Unit tests on keys written by the tools that write them in practice (`testdata/make.sh`:
//! openssl, ssh-keygen, dropbearkey, puttygen, keytool); expected fingerprints are what those
//! tools print (`testdata/facts.txt`).

use super::*;

fn facts() -> BTreeMap<&'static str, &'static str> {
    include_str!("testdata/facts.txt")
        .lines()
        .filter_map(|l| l.split_once(' '))
        .collect()
}

fn fp(name: &str) -> Option<String> {
    facts().get(name).map(|s| s.to_string())
}

fn only(data: &[u8]) -> Found {
    let mut all = find_all(data);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

const SEC1: &[u8] = include_bytes!("testdata/ec.sec1.pem");
const PKCS8: &[u8] = include_bytes!("testdata/ec.pkcs8.pem");
const PKCS8_ENC: &[u8] = include_bytes!("testdata/ec.pkcs8-encrypted.pem");
const CERT_PEM: &[u8] = include_bytes!("testdata/ec.crt.pem");
const CERT_DER: &[u8] = include_bytes!("testdata/ec.crt.der");
const OPENSSH: &[u8] = include_bytes!("testdata/ed25519");
const OPENSSH_ENC: &[u8] = include_bytes!("testdata/ed25519-encrypted");
const OPENSSH_PUB: &[u8] = include_bytes!("testdata/ed25519.pub");
const DROPBEAR: &[u8] = include_bytes!("testdata/dropbear_ed25519");
const PUTTY: &[u8] = include_bytes!("testdata/putty.ppk");
const PUTTY_ENC: &[u8] = include_bytes!("testdata/putty-encrypted.ppk");
const PUTTY_V2: &[u8] = include_bytes!("testdata/putty-v2.ppk");
const JKS: &[u8] = include_bytes!("testdata/store.jks");
const JKS_KEYPAIR: &[u8] = include_bytes!("testdata/keypair.jks");

const ALL: &[&[u8]] = &[
    SEC1,
    PKCS8,
    PKCS8_ENC,
    CERT_PEM,
    CERT_DER,
    OPENSSH,
    OPENSSH_ENC,
    OPENSSH_PUB,
    DROPBEAR,
    PUTTY,
    PUTTY_ENC,
    PUTTY_V2,
    JKS,
];

#[test]
fn x509_keys_share_one_fingerprint() {
    for (data, structure) in [(SEC1, "EC PRIVATE KEY"), (PKCS8, "PRIVATE KEY")] {
        let f = only(data);
        assert_eq!(
            (f.kind, f.format, f.structure.as_str()),
            (Kind::PrivateKey, "pem", structure)
        );
        assert_eq!(
            (f.algorithm.as_deref(), f.curve.as_deref(), f.bits),
            (Some("ec"), Some("p-256"), Some(256))
        );
        assert_eq!(fp_hex(&f), fp("ec"));
        assert!(!f.encrypted);
        assert_eq!((f.offset, f.length), (0, data.len() - 1));
    }
    let f = only(PKCS8_ENC);
    assert_eq!(
        (f.kind, f.encrypted, f.fingerprint),
        (Kind::PrivateKey, true, None)
    );
}

#[test]
fn certificates_in_pem_and_der() {
    for (data, format) in [(CERT_PEM, "pem"), (CERT_DER, "der")] {
        let f = only(data);
        assert_eq!((f.kind, f.format), (Kind::Certificate, format));
        assert_eq!(fp_hex(&f), fp("ec"));
        let c = f.cert.unwrap();
        assert_eq!(c.subject, "CN=unit,O=Probity\\, Test,C=DE");
        assert_eq!(c.issuer, c.subject);
        assert!(c.self_signed);
        assert_eq!(c.weak_signature, Some("ecdsa-with-SHA1"));
        let (nb, na) = (c.not_before.unwrap(), c.not_after.unwrap());
        assert_eq!((nb.len(), na.len()), (20, 20));
        assert!(nb < na && nb.ends_with('Z'));
    }
}

#[test]
fn openssh_dropbear_and_public_lines() {
    let f = only(OPENSSH);
    assert_eq!(
        (f.kind, f.format, f.encrypted),
        (Kind::PrivateKey, "openssh", false)
    );
    assert_eq!((f.algorithm.as_deref(), f.bits), (Some("ed25519"), Some(256)));
    assert_eq!(fp_hex(&f), fp("ed25519"));
    assert!(f.notes.contains(&("cipher".into(), "none".into())));
    let f = only(OPENSSH_ENC);
    assert!(f.encrypted);
    assert!(f.notes.contains(&("cipher".into(), "aes256-ctr".into())));
    assert_eq!(fp_hex(&f), fp("ed25519-encrypted"));
    let f = only(OPENSSH_PUB);
    assert_eq!((f.kind, f.format, f.offset), (Kind::PublicKey, "ssh-public", 0));
    assert_eq!(f.length, OPENSSH_PUB.len() - " unit\n".len());
    assert_eq!(fp_hex(&f), fp("ed25519"));
    let f = only(DROPBEAR);
    assert_eq!(
        (f.kind, f.format, f.length),
        (Kind::PrivateKey, "dropbear", DROPBEAR.len())
    );
    assert_eq!(fp_hex(&f), fp("dropbear"));
}

#[test]
fn putty_versions_and_encryption() {
    for (data, name, encrypted, structure) in [
        (PUTTY, "putty", false, "PuTTY-User-Key-File-3"),
        (PUTTY_ENC, "putty-encrypted", true, "PuTTY-User-Key-File-3"),
        (PUTTY_V2, "putty-v2", false, "PuTTY-User-Key-File-2"),
    ] {
        let f = only(data);
        assert_eq!(
            (f.kind, f.format, f.encrypted),
            (Kind::PrivateKey, "putty", encrypted),
            "{name}"
        );
        assert_eq!(f.structure, structure);
        assert_eq!(fp_hex(&f), fp(name), "{name}");
        assert_eq!((f.offset, f.length), (0, data.len() - 1), "{name}");
    }
}

#[test]
fn jks_trusted_certificate() {
    let f = only(JKS);
    assert_eq!((f.kind, f.format), (Kind::Certificate, "jks"));
    assert_eq!(fp_hex(&f), fp("ec"));
    assert_eq!(&JKS[f.offset..f.offset + f.length], CERT_DER);
    assert!(
        f.notes
            .contains(&("aliases".into(), "unit-ca (trusted-certificate)".into()))
    );
}

#[test]
fn jks_key_entry_opened_with_changeit() {
    let all = find_all(JKS_KEYPAIR);
    let got: Vec<(Kind, Option<String>, bool)> =
        all.iter().map(|f| (f.kind, fp_hex(f), f.encrypted)).collect();
    let fp = fp("jks-keypair");
    assert_eq!(
        got,
        [
            (Kind::PrivateKey, fp.clone(), false),
            (Kind::Certificate, fp, false)
        ]
    );
    let key = &all[0];
    assert_eq!((key.offset, key.length), (0, JKS_KEYPAIR.len()));
    assert!(
        key.notes
            .contains(&("opened_with".into(), "the password `changeit`".into()))
    );
    assert!(
        key.notes
            .contains(&("aliases".into(), "device (private-key)".into()))
    );
}

#[test]
fn keys_embedded_in_noise_are_found_at_their_offsets() {
    let mut blob = vec![0xa5u8; 1000];
    blob.extend_from_slice(SEC1);
    blob.extend_from_slice(&[0u8; 10]);
    blob.extend_from_slice(OPENSSH_PUB);
    let all = find_all(&blob);
    let got: Vec<(usize, Kind)> = all.iter().map(|f| (f.offset, f.kind)).collect();
    assert_eq!(
        got,
        [
            (1000, Kind::PrivateKey),
            (1000 + SEC1.len() + 10, Kind::PublicKey)
        ]
    );
    // A DER structure inside other bytes is not read as a whole-content structure.
    let mut der = vec![0u8; 3];
    der.extend_from_slice(CERT_DER);
    assert!(find_all(&der).is_empty());
}

#[test]
fn truncated_and_corrupted_samples_never_panic() {
    for data in ALL {
        for n in 0..data.len() {
            let _ = find_all(&data[..n]);
        }
        let mut d = data.to_vec();
        for i in (0..d.len()).step_by(7) {
            d[i] ^= 0x5a;
            let _ = find_all(&d);
        }
    }
}

#[test]
fn known_key_lists() {
    let a = "a".repeat(64);
    let set = parse_known_keys(&format!("# leaked\n\n{}  # comment\n{a}\n", a.to_uppercase())).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(
        parse_known_keys(&format!("{a}\nxyz\n{a}0\n")).unwrap_err(),
        "lines 2, 3 are not a SHA-256 fingerprint in hex (64 hex digits)"
    );
    assert_eq!(
        parse_known_keys("SHA256:abc").unwrap_err(),
        "line 1 is not a SHA-256 fingerprint in hex (64 hex digits)"
    );
}

#[test]
fn rules_are_complete() {
    let k = Keys::new();
    let ids: Vec<&str> = k.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "PRB-KEY-001",
            "PRB-KEY-002",
            "PRB-KEY-003",
            "PRB-KEY-004",
            "PRB-KEY-005",
            "PRB-KEY-006"
        ]
    );
    for r in k.rules() {
        assert!(!r.references.is_empty() && !r.cwe.is_empty(), "{}", r.id);
        let d = &r.doc;
        for text in [
            &d.detects,
            &d.why,
            &d.how,
            &d.false_positives,
            &d.false_negatives,
            &d.example,
        ] {
            assert!(text.len() > 20, "{}", r.id);
        }
    }
}

#[test]
fn weak_sizes() {
    let key = |alg: &str, bits| Found {
        algorithm: Some(alg.into()),
        bits: Some(bits),
        ..only(SEC1)
    };
    assert_eq!(weak(&key("rsa", 1024)), Some(2048));
    assert_eq!(weak(&key("rsa", 2048)), None);
    assert_eq!(weak(&key("dsa", 1024)), Some(2048));
    assert_eq!(weak(&key("ec", 192)), Some(224));
    assert_eq!(weak(&key("ec", 224)), None);
    assert_eq!(weak(&key("ed25519", 256)), None);
}

/// A store found by the `keys_der` fuzz target (PBES2 with 65535 PBKDF2 rounds, no MAC) took
/// 18 s when 100 000 rounds were allowed; above [`p12crypt::MAX_ITERATIONS`] it stays closed.
#[test]
fn iteration_counts_are_bounded() {
    let data = include_bytes!("testdata/fuzz-slow-pkcs12.bin");
    let start = std::time::Instant::now();
    let all = find_all(data);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(
        all.iter().all(|f| f.kind != Kind::PrivateKey || f.encrypted),
        "{all:#?}"
    );
}
