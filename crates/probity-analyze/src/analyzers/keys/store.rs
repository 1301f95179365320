//! Key stores: PKCS#12 (RFC 7292), PKCS#7 / CMS signed data (its certificates), and Java's JKS.
//!
//! What is stored in the clear is read (certificates, unencrypted key bags). PKCS#12 stores are
//! opened with a few default passwords (`p12crypt`); what stays encrypted is counted and
//! reported as encrypted key material. JKS private keys (Sun's SHA-1 key protector) are opened
//! with `changeit` and the other default passwords; their certificate chains are in the clear.

use std::borrow::Cow;

use super::der::{self, OCTET_STRING, OID, SEQUENCE, Tlv, children, expect, oid_text};
use super::p12crypt;

/// Most entries read from one store.
const MAX_ENTRIES: usize = 1024;

/// What a store holds, as far as it can be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreContents<'a> {
    /// DER certificates (borrowed when stored in the clear, owned when decrypted).
    pub certificates: Vec<Cow<'a, [u8]>>,
    /// PKCS#8 private keys (borrowed when stored in the clear, owned when decrypted).
    pub keys: Vec<Cow<'a, [u8]>>,
    /// Encrypted private keys left closed (shrouded key bags, JKS key entries).
    pub encrypted_keys: usize,
    /// Encrypted sections left closed, whose contents are unknown (PKCS#12 encryptedData).
    pub encrypted_sections: usize,
    /// JKS aliases, with their entry type (`private-key`, `trusted-certificate`).
    pub aliases: Vec<(String, &'static str)>,
    /// The default password that opened a PKCS#12 store (`Some(None)`: no password).
    pub password: Option<Option<&'static str>>,
    /// For JKS key entries: (index in `keys`, index in `certificates` of the entry's own
    /// certificate, the first of its chain).
    pub key_certificates: Vec<(usize, usize)>,
}

const OID_DATA: &str = "1.2.840.113549.1.7.1";
const OID_SIGNED: &str = "1.2.840.113549.1.7.2";
const OID_ENCRYPTED: &str = "1.2.840.113549.1.7.6";
const BAG_KEY: &str = "1.2.840.113549.1.12.10.1.1";
const BAG_SHROUDED: &str = "1.2.840.113549.1.12.10.1.2";
const BAG_CERT: &str = "1.2.840.113549.1.12.10.1.3";
const CERT_X509: &str = "1.2.840.113549.1.9.22.1";

/// Most decryptions tried on one store (each costs a key derivation of up to
/// [`p12crypt::MAX_ITERATIONS`] rounds); parts beyond it stay closed.
const MAX_TRIALS: usize = 32;

/// Decrypts with one password, within a budget of decryptions.
struct Opener {
    password: Option<Option<&'static str>>,
    left: std::cell::Cell<usize>,
}

impl Opener {
    fn open(&self, alg: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        let password = self.password?;
        let left = self.left.get().checked_sub(1)?;
        self.left.set(left);
        p12crypt::decrypt(alg, data, password)
    }
}

/// A PKCS#12 PFX: version 3, a ContentInfo of type data, and usually a MAC. The store is
/// opened with the first of [`p12crypt::PASSWORDS`] that its MAC accepts (or, without a MAC,
/// that decrypts its first encrypted part); what stays encrypted is counted.
pub fn pkcs12(der: &[u8]) -> Option<StoreContents<'_>> {
    let (pfx, _) = expect(der, SEQUENCE)?;
    let (version, rest) = expect(pfx.value, der::INTEGER)?;
    if version.value != [3] {
        return None;
    }
    let (auth_safe, rest) = expect(rest, SEQUENCE)?;
    let safes = data_content(auth_safe.value)?;
    let (list, _) = expect(safes, SEQUENCE)?;
    let infos = children(list.value, MAX_ENTRIES)?;
    let mut trials = 0usize;
    let password: Option<Option<&'static str>> = match expect(rest, SEQUENCE) {
        Some((mac, _)) => p12crypt::PASSWORDS
            .iter()
            .copied()
            .find(|p| p12crypt::mac_matches(mac.value, safes, *p) == Some(true)),
        None => {
            // No MAC: the first encrypted part tells whether a password fits.
            let first = infos.iter().find_map(|ci| encrypted_part(ci.value));
            first.and_then(|(alg, data)| {
                p12crypt::PASSWORDS.iter().copied().find(|p| {
                    trials += 1;
                    trials <= MAX_TRIALS && p12crypt::decrypt(alg, data, *p).is_some()
                })
            })
        }
    };
    let opener = Opener {
        password,
        left: std::cell::Cell::new(MAX_TRIALS.saturating_sub(trials)),
    };
    let mut out = StoreContents {
        password,
        ..StoreContents::default()
    };
    for ci in infos {
        let (oid, rest) = expect(ci.value, OID)?;
        match oid_text(oid.value)?.as_str() {
            OID_DATA => {
                let (bags, _) = expect(data_content(ci.value)?, SEQUENCE)?;
                for bag in children(bags.value, MAX_ENTRIES)? {
                    safe_bag(bag, &opener, &mut out);
                }
            }
            OID_ENCRYPTED => {
                expect(rest, 0xa0)?;
                let opened = encrypted_part(ci.value).and_then(|(alg, data)| opener.open(alg, data));
                let bags = opened.as_deref().and_then(|d| {
                    let (bags, _) = expect(d, SEQUENCE)?;
                    children(bags.value, MAX_ENTRIES)
                });
                match bags {
                    Some(bags) => {
                        let mut inner = StoreContents::default();
                        for bag in bags {
                            safe_bag(bag, &opener, &mut inner);
                        }
                        out.certificates
                            .extend(inner.certificates.into_iter().map(|c| Cow::Owned(c.into_owned())));
                        out.keys
                            .extend(inner.keys.into_iter().map(|c| Cow::Owned(c.into_owned())));
                        out.encrypted_keys += inner.encrypted_keys;
                    }
                    None => out.encrypted_sections += 1,
                }
            }
            _ => {}
        }
    }
    Some(out)
}

/// The algorithm identifier (whole element) and ciphertext of an encryptedData ContentInfo
/// (`value` is the ContentInfo's content).
fn encrypted_part(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let (oid, rest) = expect(value, OID)?;
    if oid_text(oid.value)? != OID_ENCRYPTED {
        return None;
    }
    let (explicit, _) = expect(rest, 0xa0)?;
    let (enc_data, _) = expect(explicit.value, SEQUENCE)?;
    let (_version, rest) = expect(enc_data.value, der::INTEGER)?;
    let (info, _) = expect(rest, SEQUENCE)?;
    let (_content_type, rest) = expect(info.value, OID)?;
    let (alg, rest) = expect(rest, SEQUENCE)?;
    // [0] IMPLICIT OCTET STRING, primitive (constructed BER forms are not read).
    let (content, _) = expect(rest, 0x80)?;
    Some((alg.raw, content.value))
}

/// The OCTET STRING inside a ContentInfo of type data (`value` is the ContentInfo's content).
fn data_content(value: &[u8]) -> Option<&[u8]> {
    let (oid, rest) = expect(value, OID)?;
    if oid_text(oid.value)? != OID_DATA {
        return None;
    }
    let (explicit, _) = expect(rest, 0xa0)?;
    let (octets, _) = expect(explicit.value, OCTET_STRING)?;
    Some(octets.value)
}

fn safe_bag<'a>(bag: Tlv<'a>, opener: &Opener, out: &mut StoreContents<'a>) {
    let Some((oid, rest)) = expect(bag.value, OID) else {
        return;
    };
    let Some((value, _)) = expect(rest, 0xa0) else {
        return;
    };
    match oid_text(oid.value).as_deref() {
        Some(BAG_KEY) => out.keys.push(Cow::Borrowed(value.value)),
        Some(BAG_SHROUDED) => {
            let opened = expect(value.value, SEQUENCE).and_then(|(epki, _)| {
                let (alg, rest) = expect(epki.value, SEQUENCE)?;
                let (data, _) = expect(rest, OCTET_STRING)?;
                opener.open(alg.raw, data.value)
            });
            match opened {
                Some(k) => out.keys.push(Cow::Owned(k)),
                None => out.encrypted_keys += 1,
            }
        }
        Some(BAG_CERT) => {
            let cert = expect(value.value, SEQUENCE).and_then(|(s, _)| {
                let (id, rest) = expect(s.value, OID)?;
                (oid_text(id.value)? == CERT_X509).then_some(())?;
                let (explicit, _) = expect(rest, 0xa0)?;
                let (octets, _) = expect(explicit.value, OCTET_STRING)?;
                Some(octets.value)
            });
            if let Some(c) = cert {
                out.certificates.push(Cow::Borrowed(c));
            }
        }
        _ => {}
    }
}

/// The certificates of a PKCS#7 / CMS ContentInfo of type signedData.
pub fn pkcs7_certificates(der: &[u8]) -> Option<Vec<&[u8]>> {
    let (ci, _) = expect(der, SEQUENCE)?;
    let (oid, rest) = expect(ci.value, OID)?;
    if oid_text(oid.value)? != OID_SIGNED {
        return None;
    }
    let (explicit, _) = expect(rest, 0xa0)?;
    let (signed, _) = expect(explicit.value, SEQUENCE)?;
    let fields = children(signed.value, 8)?;
    let certs = fields.iter().find(|t| t.tag == 0xa0)?;
    Some(
        children(certs.value, MAX_ENTRIES)?
            .into_iter()
            .filter(|t| t.tag == SEQUENCE)
            .map(|t| t.raw)
            .collect(),
    )
}

/// A reader of big-endian Java data.
struct Java<'a>(&'a [u8]);

impl<'a> Java<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.0.get(..n)?;
        self.0 = self.0.get(n..)?;
        Some(b)
    }
    fn u16(&mut self) -> Option<usize> {
        let b = self.take(2)?;
        Some(usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?])))
    }
    fn u32(&mut self) -> Option<usize> {
        let b = self.take(4)?;
        usize::try_from(u32::from_be_bytes([
            *b.first()?,
            *b.get(1)?,
            *b.get(2)?,
            *b.get(3)?,
        ]))
        .ok()
    }
    fn utf(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(n)
    }
}

/// A Java KeyStore (`0xFEEDFEED`, versions 1 and 2): aliases, trusted certificates and the
/// certificate chains of key entries; the keys themselves are protected by a password.
pub fn jks(data: &[u8]) -> Option<StoreContents<'_>> {
    let mut r = Java(data);
    if r.take(4)? != [0xfe, 0xed, 0xfe, 0xed] {
        return None;
    }
    let version = r.u32()?;
    if version != 1 && version != 2 {
        return None;
    }
    let count = r.u32()?;
    if count > MAX_ENTRIES {
        return None;
    }
    let mut out = StoreContents::default();
    for _ in 0..count {
        let tag = r.u32()?;
        let alias = String::from_utf8_lossy(r.utf()?).into_owned();
        r.take(8)?; // creation time
        match tag {
            1 => {
                let n = r.u32()?;
                let protected = r.take(n)?;
                match p12crypt::JKS_PASSWORDS
                    .iter()
                    .find_map(|p| Some((*p, p12crypt::jks_unprotect(protected, p)?)))
                {
                    Some((p, key)) => {
                        out.key_certificates
                            .push((out.keys.len(), out.certificates.len()));
                        out.keys.push(Cow::Owned(key));
                        out.password = Some(Some(p));
                    }
                    None => out.encrypted_keys += 1,
                }
                let chain = r.u32()?;
                if chain > MAX_ENTRIES {
                    return None;
                }
                for _ in 0..chain {
                    out.certificates.push(Cow::Borrowed(jks_cert(&mut r, version)?));
                }
                out.aliases.push((alias, "private-key"));
            }
            2 => {
                out.certificates.push(Cow::Borrowed(jks_cert(&mut r, version)?));
                out.aliases.push((alias, "trusted-certificate"));
            }
            _ => return None,
        }
    }
    Some(out)
}

fn jks_cert<'a>(r: &mut Java<'a>, version: usize) -> Option<&'a [u8]> {
    if version == 2 {
        r.utf()?; // the certificate type, "X.509"
    }
    let n = r.u32()?;
    r.take(n)
}
