//! A small DER reader and the X.509 / PKCS structures the key analyzer needs.
//!
//! Only what identifies a key is decoded: the algorithm, the size, the public key (re-encoded as
//! a SubjectPublicKeyInfo so that every encoding of one key gets one fingerprint) and, for
//! certificates, the names, the validity and the signature algorithm. Nothing is verified
//! cryptographically. Every read is bounds-checked; nesting is bounded by the structures walked
//! (no recursion on input).

use probity_model::Sha256;

/// One DER element: its tag, its content, and the whole encoding.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// The identifier octet (only single-octet tags are read).
    pub tag: u8,
    /// The content octets.
    pub value: &'a [u8],
    /// Tag, length and content.
    pub raw: &'a [u8],
}

/// Reads one element at the start of `data`; returns it and the rest.
pub fn read(data: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *data.first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-octet tags do not occur in the structures read here
    }
    let first = *data.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2usize)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None; // indefinite length (BER) or absurd sizes
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*data.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let raw = data.get(..end)?;
    let value = raw.get(header..)?;
    Some((Tlv { tag, value, raw }, data.get(end..)?))
}

/// Reads one element of tag `tag`.
pub fn expect(data: &[u8], tag: u8) -> Option<(Tlv<'_>, &[u8])> {
    let (t, rest) = read(data)?;
    (t.tag == tag).then_some((t, rest))
}

/// The elements of a constructed value, in order (at most `max`; `None` when malformed).
pub fn children(value: &[u8], max: usize) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        if out.len() >= max {
            return None;
        }
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
    }
    Some(out)
}

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;

/// Encodes an element.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let tail = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | tail.len() as u8);
        out.extend_from_slice(tail);
    }
    out.extend_from_slice(content);
    out
}

/// Dotted text of an OID's content octets.
pub fn oid_text(value: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut cur: u64 = 0;
    for (i, &b) in value.iter().enumerate() {
        if cur > (u64::MAX >> 8) {
            return None;
        }
        cur = (cur << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let (a, b) = match cur {
                    0..=39 => (0, cur),
                    40..=79 => (1, cur - 40),
                    _ => (2, cur - 80),
                };
                arcs.push(a);
                arcs.push(b);
            } else {
                arcs.push(cur);
            }
            cur = 0;
        } else if i + 1 == value.len() {
            return None;
        }
    }
    if arcs.is_empty() {
        return None;
    }
    Some(arcs.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

/// Bit length of an unsigned big-endian integer (INTEGER content, leading zeros ignored).
pub fn bit_len(value: &[u8]) -> u32 {
    let mut v = value;
    while let [0, rest @ ..] = v {
        v = rest;
    }
    match v.first() {
        Some(&b) => {
            let whole_bytes = u32::try_from(v.len() - 1)
                .unwrap_or(u32::MAX / 8)
                .min(u32::MAX / 8 - 1);
            whole_bytes * 8 + (8 - b.leading_zeros())
        }
        None => 0,
    }
}

pub const OID_RSA: &str = "1.2.840.113549.1.1.1";
pub const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
pub const OID_DSA: &str = "1.2.840.10040.4.1";
pub const OID_EC: &str = "1.2.840.10045.2.1";
pub const OID_ED25519: &str = "1.3.101.112";
pub const OID_ED448: &str = "1.3.101.113";
pub const OID_X25519: &str = "1.3.101.110";
pub const OID_X448: &str = "1.3.101.111";

const RSA_ALG_ID: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];
const EC_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const DSA_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];

/// The name and size of a named elliptic curve.
pub fn curve(oid: &str) -> Option<(&'static str, u32)> {
    Some(match oid {
        "1.2.840.10045.3.1.1" => ("p-192", 192),
        "1.3.132.0.33" => ("p-224", 224),
        "1.2.840.10045.3.1.7" => ("p-256", 256),
        "1.3.132.0.34" => ("p-384", 384),
        "1.3.132.0.35" => ("p-521", 521),
        "1.3.132.0.10" => ("secp256k1", 256),
        "1.3.36.3.3.2.8.1.1.7" => ("brainpoolP256r1", 256),
        "1.3.36.3.3.2.8.1.1.11" => ("brainpoolP384r1", 384),
        "1.3.36.3.3.2.8.1.1.13" => ("brainpoolP512r1", 512),
        _ => return None,
    })
}

/// What a public key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// `rsa`, `dsa`, `ec`, `ed25519`, … (for EC keys with a known curve: `ec-p-256` style is not
    /// used; the curve goes in `curve`).
    pub algorithm: String,
    /// Named curve of an EC key.
    pub curve: Option<String>,
    /// Size in bits.
    pub bits: Option<u32>,
    /// SHA-256 of the SubjectPublicKeyInfo DER.
    pub fingerprint: Sha256,
}

/// Reads a SubjectPublicKeyInfo element (its whole encoding in `raw`).
pub fn spki(raw: &[u8]) -> Option<PublicKey> {
    let (seq, _) = expect(raw, SEQUENCE)?;
    let (alg, rest) = expect(seq.value, SEQUENCE)?;
    let (key, _) = expect(rest, BIT_STRING)?;
    let (oid, params) = expect(alg.value, OID)?;
    let oid = oid_text(oid.value)?;
    let bits_of = key.value.get(1..)?; // skip the unused-bits octet
    let (algorithm, curve_name, bits) = match oid.as_str() {
        OID_RSA | OID_RSA_PSS => {
            let (pk, _) = expect(bits_of, SEQUENCE)?;
            let (n, _) = expect(pk.value, INTEGER)?;
            ("rsa".to_string(), None, Some(bit_len(n.value)))
        }
        OID_DSA => {
            let bits = expect(params, SEQUENCE)
                .and_then(|(p, _)| expect(p.value, INTEGER))
                .map(|(p, _)| bit_len(p.value));
            ("dsa".to_string(), None, bits)
        }
        OID_EC => {
            let named = expect(params, OID).and_then(|(o, _)| oid_text(o.value));
            match named.as_deref().and_then(curve) {
                Some((name, bits)) => ("ec".to_string(), Some(name.to_string()), Some(bits)),
                None => {
                    // Unknown or explicit curve: the point size says the field size.
                    let coord = bits_of.len().saturating_sub(1) / 2;
                    let bits = (coord > 0 && bits_of.first() == Some(&4)).then_some(coord as u32 * 8);
                    ("ec".to_string(), named, bits)
                }
            }
        }
        OID_ED25519 => ("ed25519".to_string(), None, Some(256)),
        OID_ED448 => ("ed448".to_string(), None, Some(456)),
        OID_X25519 => ("x25519".to_string(), None, Some(256)),
        OID_X448 => ("x448".to_string(), None, Some(448)),
        other => (other.to_string(), None, None),
    };
    Some(PublicKey {
        algorithm,
        curve: curve_name,
        bits,
        fingerprint: Sha256::of(seq.raw),
    })
}

/// The SubjectPublicKeyInfo of an RSA key from the raw INTEGER encodings of n and e.
pub fn rsa_spki(n_raw: &[u8], e_raw: &[u8]) -> Vec<u8> {
    let mut pk = n_raw.to_vec();
    pk.extend_from_slice(e_raw);
    let mut bits = vec![0u8];
    bits.extend(tlv(SEQUENCE, &pk));
    let mut body = RSA_ALG_ID.to_vec();
    body.extend(tlv(BIT_STRING, &bits));
    tlv(SEQUENCE, &body)
}

/// The SubjectPublicKeyInfo of an EC key: curve parameters (raw, an OID or explicit) and point.
pub fn ec_spki(params_raw: &[u8], point: &[u8]) -> Vec<u8> {
    let mut alg = EC_OID.to_vec();
    alg.extend_from_slice(params_raw);
    let mut bits = vec![0u8];
    bits.extend_from_slice(point);
    let mut body = tlv(SEQUENCE, &alg);
    body.extend(tlv(BIT_STRING, &bits));
    tlv(SEQUENCE, &body)
}

/// The SubjectPublicKeyInfo of a DSA key from the raw INTEGERs p, q, g, y.
pub fn dsa_spki(p: &[u8], q: &[u8], g: &[u8], y: &[u8]) -> Vec<u8> {
    let mut pqg = p.to_vec();
    pqg.extend_from_slice(q);
    pqg.extend_from_slice(g);
    let mut alg = DSA_OID.to_vec();
    alg.extend(tlv(SEQUENCE, &pqg));
    let mut bits = vec![0u8];
    bits.extend_from_slice(y);
    let mut body = tlv(SEQUENCE, &alg);
    body.extend(tlv(BIT_STRING, &bits));
    tlv(SEQUENCE, &body)
}

/// The SubjectPublicKeyInfo of an Ed25519 / Ed448 key from its public octets.
pub fn edwards_spki(oid: &str, public: &[u8]) -> Option<Vec<u8>> {
    let oid_der: &[u8] = match oid {
        OID_ED25519 => &[0x06, 0x03, 0x2b, 0x65, 0x70],
        OID_ED448 => &[0x06, 0x03, 0x2b, 0x65, 0x71],
        _ => return None,
    };
    let mut bits = vec![0u8];
    bits.extend_from_slice(public);
    let mut body = tlv(SEQUENCE, oid_der);
    body.extend(tlv(BIT_STRING, &bits));
    Some(tlv(SEQUENCE, &body))
}

/// A private key as far as it could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateKey {
    /// `pkcs1`, `sec1`, `dsa`, `pkcs8`, `pkcs8-encrypted`.
    pub structure: &'static str,
    /// The public key, when it can be derived without arithmetic.
    pub public: Option<PublicKey>,
    /// The algorithm when the public key is not known.
    pub algorithm: Option<String>,
    /// The size when the public key is not known.
    pub bits: Option<u32>,
    /// Whether the key itself is encrypted.
    pub encrypted: bool,
}

fn private(structure: &'static str, spki_der: Option<Vec<u8>>) -> Option<PrivateKey> {
    let public = spki(&spki_der?)?;
    Some(PrivateKey {
        structure,
        algorithm: Some(public.algorithm.clone()),
        bits: public.bits,
        public: Some(public),
        encrypted: false,
    })
}

/// PKCS#1 RSAPrivateKey.
pub fn pkcs1_private(der: &[u8]) -> Option<PrivateKey> {
    let (seq, _) = expect(der, SEQUENCE)?;
    let f = children(seq.value, 12)?;
    if f.len() < 9 || f.iter().take(9).any(|t| t.tag != INTEGER) {
        return None;
    }
    let (n, e) = (f.get(1)?, f.get(2)?);
    private("pkcs1", Some(rsa_spki(n.raw, e.raw)))
}

/// The DSA private key OpenSSL writes (`DSA PRIVATE KEY`): version, p, q, g, y, x.
pub fn dsa_private(der: &[u8]) -> Option<PrivateKey> {
    let (seq, _) = expect(der, SEQUENCE)?;
    let f = children(seq.value, 8)?;
    if f.len() != 6 || f.iter().any(|t| t.tag != INTEGER) {
        return None;
    }
    private(
        "dsa",
        Some(dsa_spki(
            f.get(1)?.raw,
            f.get(2)?.raw,
            f.get(3)?.raw,
            f.get(4)?.raw,
        )),
    )
}

/// SEC1 ECPrivateKey; `outer_params` are the curve parameters from a PKCS#8 wrapper.
pub fn sec1_private(der: &[u8], outer_params: Option<&[u8]>) -> Option<PrivateKey> {
    let (seq, _) = expect(der, SEQUENCE)?;
    let (version, rest) = expect(seq.value, INTEGER)?;
    if version.value != [1] {
        return None;
    }
    let (secret, rest) = expect(rest, OCTET_STRING)?;
    let mut params: Option<&[u8]> = outer_params;
    let mut point: Option<&[u8]> = None;
    for t in children(rest, 4)? {
        match t.tag {
            0xa0 => params = Some(t.value),
            0xa1 => point = expect(t.value, BIT_STRING).and_then(|(b, _)| b.value.get(1..)),
            _ => {}
        }
    }
    let params = params?;
    match point {
        Some(point) => private("sec1", Some(ec_spki(params, point))),
        None => {
            // Without the public point the fingerprint needs a scalar multiplication.
            let named = expect(params, OID).and_then(|(o, _)| oid_text(o.value));
            let bits = named
                .as_deref()
                .and_then(curve)
                .map(|(_, b)| b)
                .or(Some(secret.value.len() as u32 * 8));
            Some(PrivateKey {
                structure: "sec1",
                public: None,
                algorithm: Some("ec".into()),
                bits,
                encrypted: false,
            })
        }
    }
}

/// PKCS#8 PrivateKeyInfo / OneAsymmetricKey.
pub fn pkcs8_private(der: &[u8]) -> Option<PrivateKey> {
    let (seq, _) = expect(der, SEQUENCE)?;
    let (version, rest) = expect(seq.value, INTEGER)?;
    if version.value != [0] && version.value != [1] {
        return None;
    }
    let (alg, rest) = expect(rest, SEQUENCE)?;
    let (key, rest) = expect(rest, OCTET_STRING)?;
    let (oid, params) = expect(alg.value, OID)?;
    let oid = oid_text(oid.value)?;
    let public_field = children(rest, 4)?
        .into_iter()
        .find(|t| t.tag == 0x81)
        .and_then(|t| t.value.get(1..));
    let mut k = match oid.as_str() {
        OID_RSA | OID_RSA_PSS => pkcs1_private(key.value)?,
        OID_EC => sec1_private(key.value, Some(params))?,
        OID_DSA => {
            // The key holds x only; y = g^x mod p is not computed here.
            let p = expect(params, SEQUENCE)
                .and_then(|(s, _)| expect(s.value, INTEGER))
                .map(|(p, _)| bit_len(p.value));
            expect(key.value, INTEGER)?;
            PrivateKey {
                structure: "pkcs8",
                public: None,
                algorithm: Some("dsa".into()),
                bits: p,
                encrypted: false,
            }
        }
        OID_ED25519 | OID_ED448 => {
            let (_seed, _) = expect(key.value, OCTET_STRING)?;
            let public = public_field
                .and_then(|p| edwards_spki(&oid, p))
                .and_then(|d| spki(&d));
            let alg = if oid == OID_ED25519 { "ed25519" } else { "ed448" };
            PrivateKey {
                structure: "pkcs8",
                public,
                algorithm: Some(alg.into()),
                bits: Some(if oid == OID_ED25519 { 256 } else { 456 }),
                encrypted: false,
            }
        }
        other => PrivateKey {
            structure: "pkcs8",
            public: None,
            algorithm: Some(other.to_string()),
            bits: None,
            encrypted: false,
        },
    };
    k.structure = "pkcs8";
    Some(k)
}

/// PKCS#8 EncryptedPrivateKeyInfo: an algorithm identifier and an OCTET STRING.
pub fn pkcs8_encrypted(der: &[u8]) -> Option<PrivateKey> {
    let (seq, _) = expect(der, SEQUENCE)?;
    let (alg, rest) = expect(seq.value, SEQUENCE)?;
    expect(alg.value, OID)?;
    let (_data, rest) = expect(rest, OCTET_STRING)?;
    if !rest.is_empty() {
        return None;
    }
    Some(PrivateKey {
        structure: "pkcs8-encrypted",
        public: None,
        algorithm: None,
        bits: None,
        encrypted: true,
    })
}

/// PKCS#1 RSAPublicKey (`RSA PUBLIC KEY`).
pub fn pkcs1_public(der: &[u8]) -> Option<PublicKey> {
    let (seq, _) = expect(der, SEQUENCE)?;
    let (n, rest) = expect(seq.value, INTEGER)?;
    let (e, rest) = expect(rest, INTEGER)?;
    if !rest.is_empty() {
        return None;
    }
    spki(&rsa_spki(n.raw, e.raw))
}

/// What a certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub public: PublicKey,
    pub subject: String,
    pub issuer: String,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    /// Issuer and subject are the same name (the signature is not checked).
    pub self_signed: bool,
    /// The signature algorithm's OID.
    pub signature_oid: String,
}

/// An X.509 certificate.
pub fn certificate(der: &[u8]) -> Option<Certificate> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (tbs, rest) = expect(cert.value, SEQUENCE)?;
    let (sig_alg, rest) = expect(rest, SEQUENCE)?;
    let (_sig, _) = expect(rest, BIT_STRING)?;
    let mut f = children(tbs.value, 16)?.into_iter();
    let mut next = f.next()?;
    if next.tag == 0xa0 {
        next = f.next()?; // version
    }
    if next.tag != INTEGER {
        return None; // serial
    }
    let _tbs_sig = f.next().filter(|t| t.tag == SEQUENCE)?;
    let issuer = f.next().filter(|t| t.tag == SEQUENCE)?;
    let validity = f.next().filter(|t| t.tag == SEQUENCE)?;
    let subject = f.next().filter(|t| t.tag == SEQUENCE)?;
    let key = f.next().filter(|t| t.tag == SEQUENCE)?;
    let times = children(validity.value, 2)?;
    let signature_oid = expect(sig_alg.value, OID).and_then(|(o, _)| oid_text(o.value))?;
    Some(Certificate {
        public: spki(key.raw)?,
        subject: name(subject.value)?,
        issuer: name(issuer.value)?,
        not_before: times.first().and_then(time),
        not_after: times.get(1).and_then(time),
        self_signed: issuer.raw == subject.raw,
        signature_oid,
    })
}

/// Whether a signature algorithm hashes with MD2, MD4, MD5 or SHA-1.
pub fn weak_signature(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.3" => "md4WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => "sha1WithRSAEncryption",
        "1.2.840.10040.4.3" => "dsa-with-sha1",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        _ => return None,
    })
}

/// UTCTime or GeneralizedTime as RFC 3339 (UTC; only the `Z` forms DER allows).
fn time(t: &Tlv<'_>) -> Option<String> {
    let s = std::str::from_utf8(t.value).ok()?;
    let digits = s.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = match (t.tag, digits.len()) {
        (0x17, 12) => {
            let yy: u32 = digits.get(..2)?.parse().ok()?;
            format!("{}{}", if yy < 50 { "20" } else { "19" }, digits)
        }
        (0x18, 14) => digits.to_string(),
        _ => return None,
    };
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        full.get(0..4)?,
        full.get(4..6)?,
        full.get(6..8)?,
        full.get(8..10)?,
        full.get(10..12)?,
        full.get(12..14)?
    ))
}

fn attribute_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        // Not in RFC 4514's table, but what every tool prints.
        "1.2.840.113549.1.9.1" => "emailAddress",
        "2.5.4.5" => "serialNumber",
        _ => return None,
    })
}

/// A Name (the content of its SEQUENCE) in RFC 4514 form: the last RDN first, `+` between the
/// attributes of one RDN. Values that are not strings are given as `#` and their DER in hex.
pub fn name(value: &[u8]) -> Option<String> {
    let rdns = children(value, 64)?;
    let mut parts = Vec::with_capacity(rdns.len());
    for rdn in rdns.iter().rev() {
        if rdn.tag != SET {
            return None;
        }
        let mut attrs = Vec::new();
        for atv in children(rdn.value, 16)? {
            let (oid, rest) = expect(atv.value, OID)?;
            let oid = oid_text(oid.value)?;
            let (val, _) = read(rest)?;
            let key = attribute_name(&oid).map(str::to_string).unwrap_or(oid);
            let text = match val.tag {
                0x0c | 0x13 | 0x16 | 0x14 | 0x1a => escape_value(&String::from_utf8_lossy(val.value)),
                0x1e => {
                    let units: Vec<u16> = val
                        .value
                        .chunks_exact(2)
                        .map(|c| {
                            u16::from_be_bytes([
                                c.first().copied().unwrap_or(0),
                                c.get(1).copied().unwrap_or(0),
                            ])
                        })
                        .collect();
                    escape_value(&String::from_utf16_lossy(&units))
                }
                _ => format!("#{}", probity_model::hex::encode(val.raw)),
            };
            attrs.push(format!("{key}={text}"));
        }
        parts.push(attrs.join("+"));
    }
    Some(parts.join(","))
}

fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if c.is_control() {
            out.push_str(&format!("\\{:02x}", c as u32 & 0xff));
            continue;
        }
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_oids() {
        let (t, rest) = read(&[0x04, 0x81, 0x01, 0xaa, 0xbb]).unwrap();
        assert_eq!((t.tag, t.value, rest), (4, &[0xaa][..], &[0xbb][..]));
        assert!(read(&[0x04, 0x80]).is_none());
        assert!(read(&[0x04, 0x05, 1]).is_none());
        assert_eq!(
            oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]).unwrap(),
            OID_RSA
        );
        assert_eq!(bit_len(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_len(&[0x01]), 1);
        assert_eq!(tlv(4, &[0u8; 200]).get(..3).unwrap(), &[4, 0x81, 200]);
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(escape_value("a,b"), "a\\,b");
        assert_eq!(escape_value(" x "), "\\ x\\ ");
    }
}
