//! Finds every key and certificate in one content: PEM and armored blocks anywhere, SSH public
//! key lines and PuTTY files anywhere, and contents that are one DER structure or a JKS store as a
//! whole. Each result says what it is, where it is, and its public-key fingerprint.

use probity_model::Sha256;

use super::der::{self, Certificate, PrivateKey, PublicKey};
use super::{pem, pgp, ssh, store};

/// What a found item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    PrivateKey,
    PublicKey,
    Certificate,
}

impl Kind {
    /// The inventory's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PrivateKey => "private-key",
            Kind::PublicKey => "public-key",
            Kind::Certificate => "certificate",
        }
    }
}

/// Certificate fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFields {
    pub subject: String,
    pub issuer: String,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub self_signed: bool,
    /// The signature algorithm's name when it hashes with MD2/MD4/MD5/SHA-1.
    pub weak_signature: Option<&'static str>,
}

/// One key or certificate found in a content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    /// The encoding: `pem`, `der`, `openssh`, `ssh-public`, `putty`, `pkcs12`, `pkcs7`, `jks`, `pgp`.
    pub format: &'static str,
    /// The structure inside it (`pkcs1`, `pkcs8`, `sec1`, `x509`, `openssh-key-v1`, …).
    pub structure: String,
    pub algorithm: Option<String>,
    pub curve: Option<String>,
    pub bits: Option<u32>,
    /// SHA-256 of the SubjectPublicKeyInfo (X.509 keys) or of the SSH public key blob.
    pub fingerprint: Option<Sha256>,
    pub encrypted: bool,
    pub cert: Option<CertFields>,
    /// The byte range of the item (for items inside a store: the store's range).
    pub offset: usize,
    pub length: usize,
    /// Extra facts for the evidence record (cipher, alias, …).
    pub notes: Vec<(String, String)>,
    /// Found by reading the whole content as one structure (a DER file, a store, a Dropbear
    /// key), not by a search inside it.
    pub whole_content: bool,
}

impl Found {
    fn new(kind: Kind, format: &'static str, structure: &str, offset: usize, length: usize) -> Found {
        Found {
            kind,
            format,
            structure: structure.into(),
            algorithm: None,
            curve: None,
            bits: None,
            fingerprint: None,
            encrypted: false,
            cert: None,
            offset,
            length,
            notes: Vec::new(),
            whole_content: false,
        }
    }

    fn with_public(mut self, p: &PublicKey) -> Found {
        self.algorithm = Some(p.algorithm.clone());
        self.curve = p.curve.clone();
        self.bits = p.bits;
        self.fingerprint = Some(p.fingerprint);
        self
    }

    fn with_private(mut self, k: &PrivateKey) -> Found {
        if let Some(p) = &k.public {
            self = self.with_public(p);
        } else {
            self.algorithm = k.algorithm.clone();
            self.bits = k.bits;
        }
        self.encrypted = k.encrypted;
        self
    }

    fn with_ssh(mut self, k: &ssh::SshKey) -> Found {
        self.algorithm = Some(k.algorithm.clone());
        self.bits = k.bits;
        self.fingerprint = Some(k.fingerprint);
        self.notes.push(("key_type".into(), k.key_type.clone()));
        self
    }

    fn with_cert(mut self, c: &Certificate) -> Found {
        self = self.with_public(&c.public);
        self.cert = Some(CertFields {
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            not_before: c.not_before.clone(),
            not_after: c.not_after.clone(),
            self_signed: c.self_signed,
            weak_signature: der::weak_signature(&c.signature_oid),
        });
        self.notes
            .push(("signature_algorithm".into(), c.signature_oid.clone()));
        self
    }
}

/// Every key and certificate in `data`, in order of offset.
pub fn find_all(data: &[u8]) -> Vec<Found> {
    let mut out = Vec::new();
    for b in pem::blocks(data) {
        from_pem(&b, &mut out);
    }
    for l in ssh::public_lines(data) {
        out.push(
            Found::new(
                Kind::PublicKey,
                "ssh-public",
                "ssh-public-key",
                l.offset,
                l.length,
            )
            .with_ssh(&l.key),
        );
    }
    for p in ssh::putty(data) {
        let mut f = Found::new(
            Kind::PrivateKey,
            "putty",
            &format!("PuTTY-User-Key-File-{}", p.version),
            p.offset,
            p.length,
        )
        .with_ssh(&p.key);
        f.encrypted = p.encryption != "none";
        f.notes.push(("encryption".into(), p.encryption.clone()));
        out.push(f);
    }
    whole_file(data, &mut out);
    out.sort_by_key(|f| (f.offset, f.length, f.kind));
    out
}

fn from_pem(b: &pem::Block, out: &mut Vec<Found>) {
    let (off, len) = (b.offset, b.length);
    let found = |kind| Found::new(kind, "pem", &b.label, off, len);
    if b.der.is_empty() {
        return;
    }
    let legacy_encrypted = |alg: &str| {
        let mut f = found(Kind::PrivateKey);
        f.algorithm = Some(alg.into());
        f.encrypted = true;
        f
    };
    let item = match b.label.as_str() {
        "RSA PRIVATE KEY" if b.encrypted => Some(legacy_encrypted("rsa")),
        "DSA PRIVATE KEY" if b.encrypted => Some(legacy_encrypted("dsa")),
        "EC PRIVATE KEY" if b.encrypted => Some(legacy_encrypted("ec")),
        "RSA PRIVATE KEY" => der::pkcs1_private(&b.der).map(|k| found(Kind::PrivateKey).with_private(&k)),
        "DSA PRIVATE KEY" => der::dsa_private(&b.der).map(|k| found(Kind::PrivateKey).with_private(&k)),
        "EC PRIVATE KEY" => der::sec1_private(&b.der, None).map(|k| found(Kind::PrivateKey).with_private(&k)),
        "PRIVATE KEY" => der::pkcs8_private(&b.der).map(|k| found(Kind::PrivateKey).with_private(&k)),
        "ENCRYPTED PRIVATE KEY" => {
            der::pkcs8_encrypted(&b.der).map(|k| found(Kind::PrivateKey).with_private(&k))
        }
        "PUBLIC KEY" => der::spki(&b.der).map(|k| found(Kind::PublicKey).with_public(&k)),
        "RSA PUBLIC KEY" => der::pkcs1_public(&b.der).map(|k| found(Kind::PublicKey).with_public(&k)),
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
            der::certificate(&b.der).map(|c| found(Kind::Certificate).with_cert(&c))
        }
        "OPENSSH PRIVATE KEY" => {
            if let Some((cipher, keys)) = ssh::openssh_private(&b.der) {
                for k in keys {
                    let mut f =
                        Found::new(Kind::PrivateKey, "openssh", "openssh-key-v1", off, len).with_ssh(&k);
                    f.encrypted = cipher != "none";
                    f.notes.push(("cipher".into(), cipher.clone()));
                    out.push(f);
                }
            }
            None
        }
        "PGP PUBLIC KEY BLOCK" | "PGP PRIVATE KEY BLOCK" => pgp::key(&b.der).map(|k| {
            let kind = if k.secret {
                Kind::PrivateKey
            } else {
                Kind::PublicKey
            };
            let mut f = Found::new(kind, "pgp", "openpgp", off, len);
            f.algorithm = Some(k.algorithm);
            f.bits = k.bits;
            f.encrypted = k.encrypted;
            f
        }),
        "PKCS7" | "CMS" => {
            der_structure(&b.der, None, off, len, "pem", out);
            None
        }
        _ => None,
    };
    out.extend(item);
}

/// Contents that are, as a whole, one DER structure (trailing NUL or whitespace padding
/// allowed) or a JKS store.
fn whole_file(data: &[u8], out: &mut Vec<Found>) {
    let before = out.len();
    whole_file_items(data, out);
    for f in out.iter_mut().skip(before) {
        f.whole_content = true;
    }
}

fn whole_file_items(data: &[u8], out: &mut Vec<Found>) {
    if let Some(k) = ssh::dropbear(data) {
        out.push(Found::new(Kind::PrivateKey, "dropbear", "dropbear", 0, data.len()).with_ssh(&k));
        return;
    }
    if let Some(s) = store::jks(data) {
        store_items(&s, data, 0, data.len(), "jks", "jks", out);
        return;
    }
    let Some((t, rest)) = der::expect(data, der::SEQUENCE) else {
        return;
    };
    if !rest.iter().all(|&b| b == 0 || b.is_ascii_whitespace()) {
        return;
    }
    der_structure(t.raw, Some(data), 0, t.raw.len(), "der", out);
}

/// Reads one DER structure; `file` is the whole content when `der` is part of it (so that items
/// inside stores get their own offsets), and `off`/`len` the range reported otherwise.
fn der_structure(
    der: &[u8],
    file: Option<&[u8]>,
    off: usize,
    len: usize,
    format: &'static str,
    out: &mut Vec<Found>,
) {
    let found = |kind, structure: &str| Found::new(kind, format, structure, off, len);
    if let Some(c) = der::certificate(der) {
        out.push(found(Kind::Certificate, "x509").with_cert(&c));
    } else if let Some(s) = store::pkcs12(der) {
        store_items(&s, file.unwrap_or(der), off, len, "pkcs12", "pkcs12", out);
    } else if let Some(certs) = store::pkcs7_certificates(der) {
        let s = store::StoreContents {
            certificates: certs.into_iter().map(std::borrow::Cow::Borrowed).collect(),
            ..Default::default()
        };
        store_items(
            &s,
            file.unwrap_or(der),
            off,
            len,
            if file.is_some() { "pkcs7" } else { format },
            "pkcs7",
            out,
        );
    } else if let Some(k) = der::pkcs8_private(der) {
        out.push(found(Kind::PrivateKey, "pkcs8").with_private(&k));
    } else if let Some(k) = der::pkcs8_encrypted(der) {
        out.push(found(Kind::PrivateKey, "pkcs8-encrypted").with_private(&k));
    } else if let Some(k) = der::pkcs1_private(der) {
        out.push(found(Kind::PrivateKey, "pkcs1").with_private(&k));
    } else if let Some(k) = der::sec1_private(der, None) {
        out.push(found(Kind::PrivateKey, "sec1").with_private(&k));
    } else if let Some(k) = der::dsa_private(der) {
        out.push(found(Kind::PrivateKey, "dsa").with_private(&k));
    } else if let Some(k) = der::spki(der) {
        out.push(found(Kind::PublicKey, "spki").with_public(&k));
    } else if let Some(k) = der::pkcs1_public(der) {
        // Two INTEGERs are a common shape (a DSA or ECDSA signature): only a modulus of RSA size
        // with a small exponent is taken for a key.
        if k.bits.is_some_and(|b| b >= 512) && der::expect(der, der::SEQUENCE).is_some() {
            out.push(found(Kind::PublicKey, "pkcs1").with_public(&k));
        }
    }
}

/// Offset of `part` inside `whole`, when it is a subslice of it.
fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start.checked_add(part.len())? <= whole.len()).then_some(start)
}

fn store_items(
    s: &store::StoreContents<'_>,
    file: &[u8],
    off: usize,
    len: usize,
    format: &'static str,
    structure: &str,
    out: &mut Vec<Found>,
) {
    // Items in the clear are located at their own bytes when those are bytes of the content;
    // decrypted items at the store's.
    let range = |part: &std::borrow::Cow<'_, [u8]>| match part {
        std::borrow::Cow::Borrowed(p) if format != "pem" => match offset_in(file, p) {
            Some(o) => (o, p.len()),
            None => (off, len),
        },
        _ => (off, len),
    };
    let structure = match (s.password, part_is_owned(s)) {
        (Some(p), true) => format!("{structure}, opened with {}", password_text(p)),
        _ => structure.to_string(),
    };
    let structure = structure.as_str();
    for c in &s.certificates {
        if let Some(cert) = der::certificate(c) {
            let (o, l) = range(c);
            let mut f = Found::new(Kind::Certificate, format, structure, o, l).with_cert(&cert);
            opened_note(&mut f, s, matches!(c, std::borrow::Cow::Owned(_)));
            out.push(f);
        }
    }
    for (i, k) in s.keys.iter().enumerate() {
        if let Some(mut key) = der::pkcs8_private(k) {
            // A JKS key entry whose key holds no public part (Java writes EC keys without
            // it) is bound by the store to its certificate: keytool checks that they match.
            let from_cert = key.public.is_none().then(|| {
                let (_, c) = s.key_certificates.iter().find(|(ki, _)| *ki == i)?;
                der::certificate(s.certificates.get(*c)?).map(|c| c.public)
            });
            let bound = matches!(from_cert, Some(Some(_)));
            if let Some(Some(p)) = from_cert {
                key.public = Some(p);
            }
            let (o, l) = range(k);
            let mut f = Found::new(Kind::PrivateKey, format, structure, o, l).with_private(&key);
            if bound {
                f.notes
                    .push(("public_key".into(), "from the entry's certificate".into()));
            }
            opened_note(&mut f, s, matches!(k, std::borrow::Cow::Owned(_)));
            out.push(f);
        }
    }
    // Encrypted key bags, and a store that shows no key in the clear but has encrypted
    // sections (a PKCS#12 file exists to carry a key), count as encrypted private keys.
    let hidden = if s.encrypted_keys == 0 && s.keys.is_empty() && s.encrypted_sections > 0 {
        1
    } else {
        s.encrypted_keys
    };
    for i in 0..hidden {
        let mut f = Found::new(Kind::PrivateKey, format, structure, off, len);
        f.encrypted = true;
        f.notes.push(("entry".into(), i.to_string()));
        out.push(f);
    }
    if !s.aliases.is_empty() {
        let list = s
            .aliases
            .iter()
            .map(|(a, t)| format!("{a} ({t})"))
            .collect::<Vec<_>>()
            .join(", ");
        for f in out
            .iter_mut()
            .filter(|f| f.format == format && f.offset >= off && f.offset < off + len.max(1))
        {
            f.notes.push(("aliases".into(), list.clone()));
        }
    }
}

fn part_is_owned(s: &store::StoreContents<'_>) -> bool {
    s.certificates
        .iter()
        .chain(&s.keys)
        .any(|c| matches!(c, std::borrow::Cow::Owned(_)))
}

fn password_text(p: Option<&str>) -> String {
    match p {
        None => "no password".into(),
        Some("") => "the empty password".into(),
        Some(p) => format!("the password `{p}`"),
    }
}

/// Notes the password on an item that was decrypted (`owned`: it is not bytes of the content).
fn opened_note(f: &mut Found, s: &store::StoreContents<'_>, owned: bool) {
    if let (Some(p), true) = (s.password, owned) {
        f.notes.push(("opened_with".into(), password_text(p)));
    }
}
