//! SSH keys: the wire-format public key blob (RFC 4253 §6.6), OpenSSH's private key container
//! (`openssh-key-v1`, PROTOCOL.key), public key lines (`ssh-rsa AAAA… comment`, as in
//! `authorized_keys` and `*.pub`) and PuTTY's `.ppk` files (versions 2 and 3).
//!
//! SSH fingerprints are the SHA-256 of the public key blob, as `ssh-keygen -l -E sha256` prints
//! (in hex here rather than base64).

use base64::Engine;
use memchr::memmem;
use probity_model::Sha256;

use super::der::bit_len;

/// Most public key lines read from one content.
pub const MAX_LINES: usize = 4096;
/// Most keys read from one OpenSSH container (OpenSSH itself writes one).
const MAX_KEYS: u32 = 16;
/// Longest base64 public key read (an 16384-bit RSA key is about 2.8 KB).
const MAX_B64: usize = 16 * 1024;

/// A public key from its SSH wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKey {
    /// `ssh-rsa`, `ssh-ed25519`, … as written in the blob.
    pub key_type: String,
    /// `rsa`, `dsa`, `ec`, `ed25519`, … (as for X.509 keys).
    pub algorithm: String,
    /// Size in bits.
    pub bits: Option<u32>,
    /// SHA-256 of the blob.
    pub fingerprint: Sha256,
}

/// A reader of SSH wire data.
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn u32(&mut self) -> Option<u32> {
        let b = self.0.get(..4)?;
        let v = u32::from_be_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?]);
        self.0 = self.0.get(4..)?;
        Some(v)
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        let s = self.0.get(..len)?;
        self.0 = self.0.get(len..)?;
        Some(s)
    }
}

/// Reads a public key blob.
pub fn public_blob(blob: &[u8]) -> Option<SshKey> {
    let mut w = Wire(blob);
    let key_type = std::str::from_utf8(w.string()?).ok()?.to_string();
    let (algorithm, bits) = match key_type.as_str() {
        "ssh-rsa" => {
            let _e = w.string()?;
            ("rsa", Some(bit_len(w.string()?)))
        }
        "ssh-dss" => ("dsa", Some(bit_len(w.string()?))),
        "ecdsa-sha2-nistp256" | "sk-ecdsa-sha2-nistp256@openssh.com" => ("ec", Some(256)),
        "ecdsa-sha2-nistp384" => ("ec", Some(384)),
        "ecdsa-sha2-nistp521" => ("ec", Some(521)),
        "ssh-ed25519" | "sk-ssh-ed25519@openssh.com" => {
            let k = w.string()?;
            (k.len() == 32).then_some(())?;
            ("ed25519", Some(256))
        }
        "ssh-ed448" => ("ed448", Some(456)),
        _ => return None,
    };
    Some(SshKey {
        algorithm: algorithm.into(),
        key_type,
        bits,
        fingerprint: Sha256::of(blob),
    })
}

/// The keys of an `openssh-key-v1` container (the decoded PEM body) and its cipher name.
pub fn openssh_private(data: &[u8]) -> Option<(String, Vec<SshKey>)> {
    let mut w = Wire(data.strip_prefix(b"openssh-key-v1\0")?);
    let cipher = String::from_utf8_lossy(w.string()?).into_owned();
    let _kdf = w.string()?;
    let _kdf_options = w.string()?;
    let n = w.u32()?;
    if n == 0 || n > MAX_KEYS {
        return None;
    }
    let mut keys = Vec::new();
    for _ in 0..n {
        keys.push(public_blob(w.string()?)?);
    }
    let _private = w.string()?;
    Some((cipher, keys))
}

/// A Dropbear host key file (`dropbear_*_host_key`): the whole content is the public key in wire
/// form followed by the private values (RSA: e, n, d, p, q; DSS: p, q, g, y, x; ECDSA: curve,
/// Q, d; Ed25519: one 64-byte string, private seed then public key). Returns the public key.
pub fn dropbear(data: &[u8]) -> Option<SshKey> {
    let mut w = Wire(data);
    let ty = w.string()?;
    let publics = match ty {
        b"ssh-rsa" => 2,
        b"ssh-dss" => 4,
        b"ecdsa-sha2-nistp256" | b"ecdsa-sha2-nistp384" | b"ecdsa-sha2-nistp521" => 2,
        b"ssh-ed25519" => {
            let both = w.string()?;
            if both.len() != 64 || !w.0.is_empty() {
                return None;
            }
            let mut blob = Vec::with_capacity(51);
            blob.extend_from_slice(&(ty.len() as u32).to_be_bytes());
            blob.extend_from_slice(ty);
            blob.extend_from_slice(&32u32.to_be_bytes());
            blob.extend_from_slice(both.get(32..)?);
            return public_blob(&blob);
        }
        _ => return None,
    };
    for _ in 0..publics {
        w.string()?;
    }
    let public_len = data.len() - w.0.len();
    let privates = match ty {
        b"ssh-rsa" => 3,
        _ => 1,
    };
    for _ in 0..privates {
        w.string()?;
    }
    // Anything left over means this is not a Dropbear key file.
    if !w.0.is_empty() {
        return None;
    }
    public_blob(data.get(..public_len)?)
}

/// A public key line found in a content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicLine {
    /// Offset of the key type.
    pub offset: usize,
    /// Length of key type, blank and base64 (the comment is not part of it).
    pub length: usize,
    /// The key.
    pub key: SshKey,
}

/// Key types that start a public key line.
const LINE_TYPES: &[&[u8]] = &[
    b"ssh-rsa",
    b"ssh-dss",
    b"ssh-ed25519",
    b"ssh-ed448",
    b"ecdsa-sha2-nistp256",
    b"ecdsa-sha2-nistp384",
    b"ecdsa-sha2-nistp521",
    b"sk-ssh-ed25519@openssh.com",
    b"sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Public key lines (`<type> AAAA…`), wherever they are in `data`: the type must be followed by
/// blanks and base64 that decodes to a blob of the same type.
pub fn public_lines(data: &[u8]) -> Vec<PublicLine> {
    let mut out = Vec::new();
    // Every blob starts with the length of its type name, which base64 writes as `AAAA`.
    let finder = memmem::Finder::new(b" AAAA");
    let mut at = 0;
    while let Some(rel) = data.get(at..).and_then(|d| finder.find(d)) {
        if out.len() >= MAX_LINES {
            break;
        }
        let space = at + rel;
        at = space + 1;
        let before = data.get(..space).unwrap_or_default();
        let Some(ty) = LINE_TYPES.iter().find(|t| before.ends_with(t)) else {
            continue;
        };
        let start = space - ty.len();
        let b64_start = space + 1;
        let b64_len = data
            .get(b64_start..)
            .unwrap_or_default()
            .iter()
            .take(MAX_B64)
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            .count();
        let Some(b64) = data.get(b64_start..b64_start + b64_len) else {
            continue;
        };
        let Ok(blob) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            continue;
        };
        let Some(key) = public_blob(&blob) else {
            continue;
        };
        if key.key_type.as_bytes() != *ty {
            continue;
        }
        out.push(PublicLine {
            offset: start,
            length: b64_start + b64_len - start,
            key,
        });
        at = b64_start + b64_len;
    }
    out
}

/// A PuTTY private key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ppk {
    /// Offset of `PuTTY-User-Key-File-`.
    pub offset: usize,
    /// Up to the end of the last line read.
    pub length: usize,
    /// 2 or 3.
    pub version: u8,
    /// The `Encryption:` value (`none`, `aes256-cbc`).
    pub encryption: String,
    /// The public key.
    pub key: SshKey,
}

/// PuTTY key files in `data` (one per `PuTTY-User-Key-File-` header whose public lines decode).
pub fn putty(data: &[u8]) -> Vec<Ppk> {
    let mut out = Vec::new();
    let finder = memmem::Finder::new(b"PuTTY-User-Key-File-");
    let mut at = 0;
    while let Some(rel) = data.get(at..).and_then(|d| finder.find(d)) {
        if out.len() >= MAX_LINES {
            break;
        }
        let start = at + rel;
        at = start + 1;
        if let Some(p) = ppk_at(data, start) {
            at = start + p.length;
            out.push(p);
        }
    }
    out
}

fn ppk_at(data: &[u8], start: usize) -> Option<Ppk> {
    // Bounded: a .ppk of a 16384-bit RSA key is about 12 KB.
    let text = data.get(start..data.len().min(start + 64 * 1024))?;
    let mut lines = text.split(|&b| b == b'\n');
    let mut consumed = 0usize;
    let mut next = |consumed: &mut usize| -> Option<&[u8]> {
        let l = lines.next()?;
        *consumed += l.len() + 1;
        Some(l.strip_suffix(b"\r").unwrap_or(l))
    };
    let header = next(&mut consumed)?;
    let version = match header.get(20)? {
        b'2' => 2,
        b'3' => 3,
        _ => return None,
    };
    let mut encryption = None;
    let mut public = None;
    let mut end = None;
    for _ in 0..64 {
        let Some(line) = next(&mut consumed) else { break };
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => (line.get(..i)?, line.get(i + 1..)?.trim_ascii()),
            None => return None,
        };
        match name {
            b"Encryption" => encryption = Some(String::from_utf8_lossy(value).into_owned()),
            b"Public-Lines" | b"Private-Lines" => {
                let n: usize = std::str::from_utf8(value).ok()?.parse().ok()?;
                if n > 256 {
                    return None;
                }
                let mut b64 = Vec::new();
                for _ in 0..n {
                    b64.extend_from_slice(next(&mut consumed)?.trim_ascii());
                }
                if name == b"Public-Lines" {
                    public = Some(base64::engine::general_purpose::STANDARD.decode(&b64).ok()?);
                }
            }
            b"Private-MAC" | b"Private-Hash" => {
                end = Some(consumed.min(text.len()));
                break;
            }
            _ => {}
        }
    }
    let key = public_blob(&public?)?;
    // Without the MAC line the file is cut short; what was read still identifies the key.
    let length = end.unwrap_or(consumed.min(text.len()));
    // The length covers the last line without its newline.
    let length = if text.get(length.saturating_sub(1)) == Some(&b'\n') {
        length - 1
    } else {
        length
    };
    Some(Ppk {
        offset: start,
        length,
        version,
        encryption: encryption?,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed25519_blob() -> Vec<u8> {
        let mut b = vec![0, 0, 0, 11];
        b.extend_from_slice(b"ssh-ed25519");
        b.extend_from_slice(&[0, 0, 0, 32]);
        b.extend_from_slice(&[7u8; 32]);
        b
    }

    #[test]
    fn public_line_in_noise() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(ed25519_blob());
        let data = format!("\x01\x02ssh-rsa AAAA!! no-key AAAA ssh-ed25519 {b64} me@host\n");
        let lines = public_lines(data.as_bytes());
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].offset, data.find("ssh-ed25519").unwrap());
        assert_eq!(lines[0].length, 12 + b64.len());
        assert_eq!(lines[0].key.algorithm, "ed25519");
        assert_eq!(lines[0].key.fingerprint, Sha256::of(&ed25519_blob()));
    }

    #[test]
    fn truncated_blobs_are_rejected() {
        let blob = ed25519_blob();
        for n in 0..blob.len() {
            assert!(public_blob(&blob[..n]).is_none());
        }
        assert!(openssh_private(b"openssh-key-v1\0\0\0\0\x04none").is_none());
    }
}
