//! Opening PKCS#12 stores with default passwords: the PKCS#12 key derivation and MAC (RFC 7292
//! appendix B), PBES2 with PBKDF2 (RFC 8018), and the ciphers stores use in practice: 3DES and
//! 40-bit RC2 (OpenSSL 1.x defaults), AES-CBC (OpenSSL 3 defaults).
//!
//! Iteration counts are bounded ([`MAX_ITERATIONS`]) so a hostile store can not make the
//! analysis slow; a store above the bound is left closed.

use cbc::cipher::{BlockDecryptMut, InnerIvInit, KeyInit, KeyIvInit, block_padding::Pkcs7};
use sha1::Digest;

use super::der::{self, INTEGER, OCTET_STRING, OID, SEQUENCE, expect, oid_text};

/// Highest iteration count tried (OpenSSL writes 2048, Java's keytool 10000). With at most
/// [`PASSWORDS`] MAC checks and a bounded number of decryptions per store, this bounds the time a
/// hostile store can take (a fuzzer found an 18 s input at a 100 000 bound).
pub const MAX_ITERATIONS: u64 = 20_000;

/// Passwords tried, in order: the empty password, `changeit` (the default password of Java's
/// `keytool` key stores, Oracle's keytool documentation), `password`, and `1234` / `12345678`.
/// `None` is "no password" (an empty PKCS#12 password string, which OpenSSL also tries).
pub const PASSWORDS: &[Option<&str>] = &[
    None,
    Some(""),
    Some("changeit"),
    Some("password"),
    Some("1234"),
    Some("12345678"),
];

/// Passwords tried on JKS key entries: Java's `changeit` first.
pub const JKS_PASSWORDS: &[&str] = &["changeit", "", "password", "1234", "12345678"];

/// Opens a JKS private key entry (an EncryptedPrivateKeyInfo under Sun's proprietary key
/// protector, OID 1.3.6.1.4.1.42.2.17.1.1): the data is a 20-byte salt, the key XORed with a
/// SHA-1 keystream (`SHA1(password || salt)`, then `SHA1(password || previous)`), and
/// `SHA1(password || key)` as a check. The password is UTF-16BE without terminator.
pub fn jks_unprotect(epki: &[u8], password: &str) -> Option<Vec<u8>> {
    let (seq, _) = expect(epki, SEQUENCE)?;
    let (alg, rest) = expect(seq.value, SEQUENCE)?;
    if oid_text(expect(alg.value, OID)?.0.value)? != "1.3.6.1.4.1.42.2.17.1.1" {
        return None;
    }
    let (data, _) = expect(rest, OCTET_STRING)?;
    let data = data.value;
    let salt = data.get(..20)?;
    let check = data.get(data.len().checked_sub(20)?..)?;
    let cipher = data.get(20..data.len() - 20)?;
    let pw: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let mut key = Vec::with_capacity(cipher.len());
    let mut d = Hash::Sha1.digest(&[&pw, salt]);
    for chunk in cipher.chunks(20) {
        key.extend(chunk.iter().zip(&d).map(|(a, b)| a ^ b));
        d = Hash::Sha1.digest(&[&pw, &d]);
    }
    (Hash::Sha1.digest(&[&pw, &key]) == check).then_some(key)
}

#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha1,
    Sha256,
}

impl Hash {
    fn from_oid(oid: &str) -> Option<Hash> {
        match oid {
            "1.3.14.3.2.26" | "1.2.840.113549.2.7" => Some(Hash::Sha1),
            "2.16.840.1.101.3.4.2.1" | "1.2.840.113549.2.9" => Some(Hash::Sha256),
            _ => None,
        }
    }

    fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
        }
    }

    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Hash::Sha1 => {
                let mut h = sha1::Sha1::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().to_vec()
            }
            Hash::Sha256 => {
                let mut h = sha2::Sha256::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().to_vec()
            }
        }
    }

    fn state(self) -> State {
        match self {
            Hash::Sha1 => State::Sha1(sha1::Sha1::new()),
            Hash::Sha256 => State::Sha256(sha2::Sha256::new()),
        }
    }

    /// HMAC keyed with `key` (RFC 2104), its inner and outer states computed once.
    fn keyed(self, key: &[u8]) -> Hmac {
        const BLOCK: usize = 64; // SHA-1 and SHA-256
        let mut k = if key.len() > BLOCK {
            self.digest(&[key])
        } else {
            key.to_vec()
        };
        k.resize(BLOCK, 0);
        let mut inner = self.state();
        inner.update(&k.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
        let mut outer = self.state();
        outer.update(&k.iter().map(|b| b ^ 0x5c).collect::<Vec<u8>>());
        Hmac { inner, outer }
    }

    fn hmac(self, key: &[u8], data: &[&[u8]]) -> Vec<u8> {
        self.keyed(key).mac(data)
    }
}

#[derive(Clone)]
enum State {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl State {
    fn update(&mut self, data: &[u8]) {
        match self {
            State::Sha1(h) => h.update(data),
            State::Sha256(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            State::Sha1(h) => h.finalize().to_vec(),
            State::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

struct Hmac {
    inner: State,
    outer: State,
}

impl Hmac {
    fn mac(&self, data: &[&[u8]]) -> Vec<u8> {
        let mut inner = self.inner.clone();
        data.iter().for_each(|d| inner.update(d));
        let mut outer = self.outer.clone();
        outer.update(&inner.finish());
        outer.finish()
    }
}

/// The password as PKCS#12 key derivation wants it: UTF-16BE with a terminating NUL.
fn bmp(password: Option<&str>) -> Vec<u8> {
    match password {
        None => Vec::new(),
        Some(p) => p.encode_utf16().chain([0]).flat_map(u16::to_be_bytes).collect(),
    }
}

/// RFC 7292 B.2.
fn pkcs12_kdf(hash: Hash, password: &[u8], salt: &[u8], id: u8, iterations: u64, n: usize) -> Vec<u8> {
    const V: usize = 64;
    let fill = |s: &[u8]| -> Vec<u8> {
        if s.is_empty() {
            return Vec::new();
        }
        s.iter().copied().cycle().take(V * s.len().div_ceil(V)).collect()
    };
    let d = vec![id; V];
    let mut i: Vec<u8> = fill(salt);
    i.extend(fill(password));
    let mut out = Vec::with_capacity(n + hash.len());
    while out.len() < n {
        let mut a = hash.digest(&[&d, &i]);
        for _ in 1..iterations {
            a = hash.digest(&[&a]);
        }
        let b: Vec<u8> = a.iter().copied().cycle().take(V).collect();
        for chunk in i.chunks_mut(V) {
            // chunk = (chunk + b + 1) mod 2^(8V)
            let mut carry = 1u16;
            for (x, y) in chunk.iter_mut().rev().zip(b.iter().rev()) {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum as u8;
                carry = sum >> 8;
            }
        }
        out.extend_from_slice(&a);
    }
    out.truncate(n);
    out
}

fn pbkdf2(hash: Hash, password: &[u8], salt: &[u8], iterations: u64, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + hash.len());
    let mut block = 1u32;
    let prf = hash.keyed(password);
    while out.len() < n {
        let mut u = prf.mac(&[salt, &block.to_be_bytes()]);
        let mut t = u.clone();
        for _ in 1..iterations {
            u = prf.mac(&[&u]);
            t.iter_mut().zip(&u).for_each(|(a, b)| *a ^= b);
        }
        out.extend_from_slice(&t);
        block += 1;
    }
    out.truncate(n);
    out
}

fn iterations(t: Option<der::Tlv<'_>>) -> Option<u64> {
    let t = t?;
    if t.tag != INTEGER || t.value.len() > 8 {
        return None;
    }
    let n = t.value.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    (1..=MAX_ITERATIONS).contains(&n).then_some(n)
}

/// Whether `password` opens the MAC of a PFX (`mac_data` is the MacData element's content,
/// `auth_safe` the octets the MAC covers).
pub fn mac_matches(mac_data: &[u8], auth_safe: &[u8], password: Option<&str>) -> Option<bool> {
    let (digest_info, rest) = expect(mac_data, SEQUENCE)?;
    let (alg, digest_rest) = expect(digest_info.value, SEQUENCE)?;
    let (mac, _) = expect(digest_rest, OCTET_STRING)?;
    let hash = Hash::from_oid(&oid_text(expect(alg.value, OID)?.0.value)?)?;
    let (salt, rest) = expect(rest, OCTET_STRING)?;
    let iter = if rest.is_empty() {
        Some(1)
    } else {
        iterations(der::read(rest).map(|(t, _)| t))
    }?;
    let key = pkcs12_kdf(hash, &bmp(password), salt.value, 3, iter, hash.len());
    Some(hash.hmac(&key, &[auth_safe]) == mac.value)
}

fn cbc_decrypt<C>(cipher: C, iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
where
    C: BlockDecryptMut + cbc::cipher::BlockCipher,
{
    let dec = cbc::Decryptor::<C>::inner_iv_slice_init(cipher, iv).ok()?;
    dec.decrypt_padded_vec_mut::<Pkcs7>(data).ok()
}

/// Decrypts `data` encrypted under the algorithm identifier `alg` (its whole element) with
/// `password`; `None` when the algorithm is not supported or the password is wrong (bad padding).
pub fn decrypt(alg: &[u8], data: &[u8], password: Option<&str>) -> Option<Vec<u8>> {
    let (alg, _) = expect(alg, SEQUENCE)?;
    let (oid, params) = expect(alg.value, OID)?;
    match oid_text(oid.value)?.as_str() {
        oid @ ("1.2.840.113549.1.12.1.3" | "1.2.840.113549.1.12.1.6") => {
            let (p, _) = expect(params, SEQUENCE)?;
            let (salt, rest) = expect(p.value, OCTET_STRING)?;
            let iter = iterations(der::read(rest).map(|(t, _)| t))?;
            let pw = bmp(password);
            let iv = pkcs12_kdf(Hash::Sha1, &pw, salt.value, 2, iter, 8);
            if oid == "1.2.840.113549.1.12.1.3" {
                let key = pkcs12_kdf(Hash::Sha1, &pw, salt.value, 1, iter, 24);
                cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                    .ok()?
                    .decrypt_padded_vec_mut::<Pkcs7>(data)
                    .ok()
            } else {
                let key = pkcs12_kdf(Hash::Sha1, &pw, salt.value, 1, iter, 5);
                cbc_decrypt(rc2::Rc2::new_with_eff_key_len(&key, 40), &iv, data)
            }
        }
        "1.2.840.113549.1.5.13" => {
            let (p, _) = expect(params, SEQUENCE)?;
            let (kdf, rest) = expect(p.value, SEQUENCE)?;
            let (scheme, _) = expect(rest, SEQUENCE)?;
            let (kdf_oid, kdf_params) = expect(kdf.value, OID)?;
            if oid_text(kdf_oid.value)? != "1.2.840.113549.1.5.12" {
                return None;
            }
            let (kp, _) = expect(kdf_params, SEQUENCE)?;
            let (salt, rest) = expect(kp.value, OCTET_STRING)?;
            let (iter_tlv, mut rest) = der::read(rest)?;
            let iter = iterations(Some(iter_tlv))?;
            if let Some((t, r)) = expect(rest, INTEGER) {
                let _ = t; // keyLength: implied by the cipher
                rest = r;
            }
            let prf = match expect(rest, SEQUENCE) {
                Some((prf, _)) => Hash::from_oid(&oid_text(expect(prf.value, OID)?.0.value)?)?,
                None => Hash::Sha1,
            };
            let (enc_oid, iv) = expect(scheme.value, OID)?;
            let (iv, _) = expect(iv, OCTET_STRING)?;
            let pw = password.unwrap_or_default().as_bytes();
            let key_len = match oid_text(enc_oid.value)?.as_str() {
                "2.16.840.1.101.3.4.1.2" => 16,
                "2.16.840.1.101.3.4.1.22" => 24,
                "2.16.840.1.101.3.4.1.42" => 32,
                "1.2.840.113549.3.7" => 24,
                _ => return None,
            };
            let key = pbkdf2(prf, pw, salt.value, iter, key_len);
            match oid_text(enc_oid.value)?.as_str() {
                "2.16.840.1.101.3.4.1.2" => {
                    cbc_decrypt(aes::Aes128::new_from_slice(&key).ok()?, iv.value, data)
                }
                "2.16.840.1.101.3.4.1.22" => {
                    cbc_decrypt(aes::Aes192::new_from_slice(&key).ok()?, iv.value, data)
                }
                "2.16.840.1.101.3.4.1.42" => {
                    cbc_decrypt(aes::Aes256::new_from_slice(&key).ok()?, iv.value, data)
                }
                _ => cbc_decrypt(des::TdesEde3::new_from_slice(&key).ok()?, iv.value, data),
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_and_pbkdf2_known_answers() {
        // RFC 4231 test case 2 and RFC 6070 test vector 2 (PBKDF2-HMAC-SHA1, 2 iterations).
        assert_eq!(
            probity_model::hex::encode(&Hash::Sha256.hmac(b"Jefe", &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            probity_model::hex::encode(&pbkdf2(Hash::Sha1, b"password", b"salt", 2, 20)),
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"
        );
    }
}
