//! OpenPGP keys (RFC 4880 / RFC 9580), read from an armored block's first packet: public or
//! secret key, algorithm, size, and whether a secret key is protected by a passphrase.
//! OpenPGP fingerprints are not SubjectPublicKeyInfo hashes, so none is given.

/// What the first key packet says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgpKey {
    /// Whether it is a secret key packet (tag 5) rather than a public key (tag 6).
    pub secret: bool,
    /// `rsa`, `dsa`, `elgamal`, `ec`, `ed25519`, or the algorithm number.
    pub algorithm: String,
    /// Size in bits, when known.
    pub bits: Option<u32>,
    /// For secret keys: whether the secret part is encrypted (S2K usage octet not zero).
    pub encrypted: bool,
}

/// Reads the first packet of a decoded armored key block.
pub fn key(data: &[u8]) -> Option<PgpKey> {
    let ctb = *data.first()?;
    if ctb & 0x80 == 0 {
        return None;
    }
    let (tag, body) = if ctb & 0x40 != 0 {
        let tag = ctb & 0x3f;
        let l0 = usize::from(*data.get(1)?);
        let (len, hdr): (usize, usize) = match l0 {
            0..=191 => (l0, 2),
            192..=223 => (((l0 - 192) << 8) + usize::from(*data.get(2)?) + 192, 3),
            255 => {
                let b = data.get(2..6)?;
                (
                    u32::from_be_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?]) as usize,
                    6,
                )
            }
            _ => return None,
        };
        (tag, data.get(hdr..hdr.checked_add(len)?)?)
    } else {
        let tag = (ctb >> 2) & 0x0f;
        let (len, hdr): (usize, usize) = match ctb & 3 {
            0 => (usize::from(*data.get(1)?), 2),
            1 => (usize::from(u16::from_be_bytes([*data.get(1)?, *data.get(2)?])), 3),
            2 => {
                let b = data.get(1..5)?;
                (
                    u32::from_be_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?]) as usize,
                    5,
                )
            }
            _ => (data.len().saturating_sub(1), 1),
        };
        (tag, data.get(hdr..hdr.checked_add(len)?)?)
    };
    let secret = match tag {
        5 => true,
        6 => false,
        _ => return None,
    };
    if *body.first()? != 4 {
        return None; // v3 and v5/v6 keys are not read
    }
    let algo = *body.get(5)?;
    let mut rest = body.get(6..)?;
    let mpi = |rest: &mut &[u8]| -> Option<u32> {
        let bits = u32::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
        let n = (bits as usize).div_ceil(8);
        *rest = rest.get(2 + n..)?;
        Some(bits)
    };
    let (algorithm, bits) = match algo {
        1..=3 => {
            let n = mpi(&mut rest)?;
            mpi(&mut rest)?;
            ("rsa".to_string(), Some(n))
        }
        17 => {
            let p = mpi(&mut rest)?;
            for _ in 0..3 {
                mpi(&mut rest)?;
            }
            ("dsa".to_string(), Some(p))
        }
        16 | 20 => {
            let p = mpi(&mut rest)?;
            for _ in 0..2 {
                mpi(&mut rest)?;
            }
            ("elgamal".to_string(), Some(p))
        }
        18 | 19 | 22 => {
            let oid_len = usize::from(*rest.first()?);
            let oid = rest.get(1..1 + oid_len)?;
            rest = rest.get(1 + oid_len..)?;
            mpi(&mut rest)?;
            if algo == 18 {
                let kdf_len = usize::from(*rest.first()?);
                rest = rest.get(1 + kdf_len..)?;
            }
            match oid {
                [0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01] => ("ed25519".to_string(), Some(256)),
                [0x2b, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01] => {
                    ("x25519".to_string(), Some(256))
                }
                [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] => ("ec".to_string(), Some(256)),
                [0x2b, 0x81, 0x04, 0x00, 0x22] => ("ec".to_string(), Some(384)),
                [0x2b, 0x81, 0x04, 0x00, 0x23] => ("ec".to_string(), Some(521)),
                _ => ("ec".to_string(), None),
            }
        }
        other => (format!("pgp-{other}"), None),
    };
    // For algorithms not read here the S2K octet can not be found: assume protection.
    let known = !algorithm.starts_with("pgp-");
    let encrypted = secret && (!known || rest.first().is_some_and(|&u| u != 0));
    Some(PgpKey {
        secret,
        algorithm,
        bits,
        encrypted,
    })
}
