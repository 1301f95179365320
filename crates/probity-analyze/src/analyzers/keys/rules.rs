//! The rules of the key analyzer (`PRB-KEY-NNN`) and their documentation.

use probity_model::{Confidence, RuleDescriptor, RuleDoc, Severity};

use super::ID;

pub const EMBEDDED_PRIVATE_KEY: &str = "PRB-KEY-001";
pub const WEAK_KEY: &str = "PRB-KEY-002";
pub const CERTIFICATE_WITH_KEY: &str = "PRB-KEY-003";
pub const WEAK_SIGNATURE: &str = "PRB-KEY-004";
pub const KNOWN_LEAKED_KEY: &str = "PRB-KEY-005";
pub const AUTHORIZED_KEY: &str = "PRB-KEY-006";

const HOUSE_OF_KEYS: &str = "https://sec-consult.com/blog/detail/house-of-keys-industry-wide-https-certificate-and-ssh-key-reuse-endangers-millions-of-devices-worldwide/";
const VU_566724: &str = "https://www.kb.cert.org/vuls/id/566724";
const LITTLEBLACKBOX: &str = "https://github.com/devttys0/littleblackbox";
const HOW: &str = "Every distinct content is searched for PEM blocks (RFC 7468, any label, bounded in size and number), \
    OpenSSH `openssh-key-v1` containers, SSH public key lines, PuTTY `.ppk` files and OpenPGP armor; contents that \
    are one DER structure as a whole (certificate, PKCS#1/PKCS#8/SEC1 key, SubjectPublicKeyInfo, PKCS#12, PKCS#7 \
    signed data), Dropbear host key files and Java key stores are read as such. PKCS#12 stores are opened with \
    default passwords (none, empty, `changeit`, `password`, `1234`, `12345678`). Keys are identified by the SHA-256 of their \
    SubjectPublicKeyInfo DER (or of the SSH public key blob for SSH and PuTTY keys), rebuilt from the private key \
    where it holds the public part, so the same key in PEM, DER and PKCS#12 gets one fingerprint.";

// One argument per field of the descriptor, in the struct's order; a builder would only add
// names that the call sites already show by their constants.
#[allow(clippy::too_many_arguments)]
fn rule(
    id: &str,
    name: &str,
    title: &str,
    severity: Severity,
    confidence: Confidence,
    cwe: &[&str],
    references: &[&str],
    remediation: &str,
    doc: RuleDoc,
) -> Option<RuleDescriptor> {
    crate::rules::RuleSpec {
        id,
        name,
        title,
        severity,
        confidence,
        cwe,
        references,
        remediation,
        doc,
    }
    .build(ID)
}

/// The analyzer's rules, in id order.
pub fn descriptors() -> Vec<RuleDescriptor> {
    [
        rule(
            EMBEDDED_PRIVATE_KEY,
            "EmbeddedPrivateKey",
            "Unencrypted private key embedded in the image",
            Severity::High,
            Confidence::Confirmed,
            &["CWE-321", "CWE-798"],
            &[HOUSE_OF_KEYS, VU_566724, LITTLEBLACKBOX, "https://cwe.mitre.org/data/definitions/321.html"],
            "Generate host keys and TLS keys on each device at first boot (dropbearkey / ssh-keygen -A, a \
             per-device certificate), keep them out of the firmware image, and treat this key as public: \
             replace it wherever it is deployed.",
            RuleDoc {
                detects: "A private key (RSA, DSA, EC, Ed25519; PEM, DER, OpenSSH, PuTTY, PKCS#8, PKCS#12 or JKS) \
                    stored without encryption in a file of the image. The message names the key's role when \
                    the path says it: an SSH host key (etc/dropbear, etc/ssh), a TLS key, a user key."
                    .into(),
                why: "Every unit of the product ships with the same key, and anyone can extract it from the \
                    public firmware: an SSH host key or TLS key lets them impersonate any device and decrypt or \
                    intercept its traffic; a user key may log in wherever its public half is authorized. SEC \
                    Consult's \"House of Keys\" (2015) found such keys reused on millions of devices."
                    .into(),
                how: HOW.into(),
                false_positives: "Keys kept only for tests or examples (documentation, unit-test data) and keys \
                    that the device replaces at first boot before use (a default that an init script \
                    regenerates) are reported too; check whether the boot scripts regenerate it."
                    .into(),
                false_negatives: "Keys in proprietary or obfuscated encodings, keys inside compressed data that \
                    was not unpacked, DER keys embedded in the middle of a binary (only whole-file DER is read), \
                    and keys whose encryption is trivially weak (an encrypted key whose passphrase is also in the \
                    image) are not reported by this rule."
                    .into(),
                example: "`rootfs ▸ /etc/dropbear/dropbear_rsa_host_key`: unencrypted rsa 2048-bit private key \
                    (Dropbear SSH host key), fingerprint 3f2a…."
                    .into(),
            },
        ),
        rule(
            WEAK_KEY,
            "WeakKey",
            "Key too short for current use",
            Severity::Medium,
            Confidence::Confirmed,
            &["CWE-326"],
            &[
                "https://csrc.nist.gov/pubs/sp/800/131/a/r2/final",
                "https://csrc.nist.gov/pubs/sp/800/57/pt1/r5/final",
            ],
            "Replace the key with an RSA key of at least 2048 bits (3072 for use beyond 2030) or an EC / \
             Ed25519 key, and re-issue certificates for it.",
            RuleDoc {
                detects: "A private key, public key or certificate key of RSA or DSA below 2048 bits, or EC below \
                    224 bits."
                    .into(),
                why: "NIST SP 800-131A disallows RSA and DSA keys under 2048 bits and EC keys under 224 bits for \
                    signatures and key establishment: 1024-bit RSA is within reach of well-funded attackers, and \
                    512-bit RSA was factored publicly decades ago."
                    .into(),
                how: format!("{HOW} The size is the bit length of the RSA modulus or DSA prime, or the named curve's size."),
                false_positives: "Keys that are present but unused (a leftover sample) are reported too.".into(),
                false_negatives: "Encrypted keys whose size can not be read without the passphrase (legacy \
                    encrypted PEM, PKCS#8 encrypted, PKCS#12 shrouded bags) are not judged."
                    .into(),
                example: "`rootfs ▸ /etc/ssl/server.key`: rsa key of 1024 bits.".into(),
            },
        ),
        rule(
            CERTIFICATE_WITH_KEY,
            "CertificateKeyPairInImage",
            "Certificate and its private key both in the image",
            Severity::Medium,
            Confidence::Confirmed,
            &["CWE-321", "CWE-798"],
            &[HOUSE_OF_KEYS, VU_566724],
            "Create the device's TLS identity on the device (at first boot or at enrolment), not at build time.",
            RuleDoc {
                detects: "An X.509 certificate and a private key, both in the image, with the same public key \
                    (the same SubjectPublicKeyInfo fingerprint): the device's TLS (or other) identity is baked \
                    into the image."
                    .into(),
                why: "The certificate is what clients are shown and the key proves it: with both public, anyone can \
                    present the identity of every unit of the product (the House of Keys case), and the \
                    certificate pinpoints which service uses the key."
                    .into(),
                how: format!("{HOW} After all contents are read, private keys whose fingerprint equals a \
                    certificate's are reported, with the certificate's location as evidence."),
                false_positives: "A test certificate kept with its key for development.".into(),
                false_negatives: "Encrypted keys (no public key can be read) and keys that hold no public part \
                    (PKCS#8 DSA, PKCS#8 Ed25519 without the optional public key) can not be matched."
                    .into(),
                example: "`rootfs ▸ /etc/ssl/server.key` matches the certificate `CN=router.local` in \
                    `rootfs ▸ /etc/ssl/server.crt`."
                    .into(),
            },
        ),
        rule(
            WEAK_SIGNATURE,
            "WeakCertificateSignature",
            "Certificate signed with MD5 or SHA-1",
            Severity::Low,
            Confidence::Confirmed,
            &["CWE-328", "CWE-327"],
            &["https://www.rfc-editor.org/rfc/rfc6151", "https://shattered.io/", "https://sha-mbles.github.io/"],
            "Re-issue the certificate with a SHA-256 (or stronger) signature.",
            RuleDoc {
                detects: "A certificate issued by another certificate (not self-signed) whose signature \
                    algorithm hashes with MD2, MD4, MD5 or SHA-1."
                    .into(),
                why: "Chosen-prefix collisions exist for MD5 and SHA-1 (SHAttered, SHA-1 is a Shambles): a \
                    signature over such a hash can be transplanted onto a certificate the issuer never signed."
                    .into(),
                how: format!("{HOW} The signature algorithm OID of each certificate is compared with the known \
                    weak ones. Self-signed certificates are skipped: nobody verifies a trust anchor's own \
                    signature. Certificate validity is recorded in the inventory (not_before / not_after) but \
                    not judged: a report must not depend on the day it is made, and the image does not say \
                    when it is deployed."),
                false_positives: "A certificate that is present but never used in a chain.".into(),
                false_negatives: "Issuer and subject are compared by name, not by checking the signature; a \
                    CA certificate re-signed under the same name is taken for self-signed."
                    .into(),
                example: "`rootfs ▸ /etc/ssl/device.crt`: certificate `CN=device` issued by `CN=Vendor CA` is \
                    signed with sha1WithRSAEncryption."
                    .into(),
            },
        ),
        rule(
            KNOWN_LEAKED_KEY,
            "KnownLeakedKey",
            "Key on a list of publicly leaked keys",
            Severity::Critical,
            Confidence::Confirmed,
            &["CWE-321", "CWE-798"],
            &[LITTLEBLACKBOX, HOUSE_OF_KEYS, VU_566724],
            "Replace the key on every deployed unit; the private half is public.",
            RuleDoc {
                detects: "A key or certificate whose public-key fingerprint is on the list given with \
                    `--known-keys FILE` (one SHA-256 in hex per line, `#` comments)."
                    .into(),
                why: "The private half of a listed key is public: anyone can impersonate or decrypt the \
                    device, and Internet-wide scans can already find the units that use it."
                    .into(),
                how: format!("{HOW} Each fingerprint is looked up in the list."),
                false_positives: "None beyond the list's own errors.".into(),
                false_negatives: "Lists of SSH fingerprints match SSH-encoded keys only, and lists of \
                    SubjectPublicKeyInfo fingerprints match X.509-encoded keys only: give both forms."
                    .into(),
                example: "`rootfs ▸ /etc/ssl/private/server.key`: fingerprint 5d1c… is on the known-keys list.".into(),
            },
        ),
        rule(
            AUTHORIZED_KEY,
            "AuthorizedKeyInImage",
            "SSH authorized key shipped in the image",
            Severity::High,
            Confidence::Likely,
            &["CWE-798"],
            &[
                "https://tools.cisco.com/security/center/content/CiscoSecurityAdvisory/cisco-sa-20150625-ironport",
                "https://nvd.nist.gov/vuln/detail/CVE-2015-4216",
            ],
            "Remove vendor keys from `authorized_keys`; let the operator install their own keys.",
            RuleDoc {
                detects: "An SSH public key in a file named `authorized_keys` (or `authorized_keys2`).".into(),
                why: "Whoever holds the matching private key (the vendor, or anyone it leaked to) can log in to \
                    every unit of the product; Cisco's IronPort appliances shipped such a key (CVE-2015-4216)."
                    .into(),
                how: format!("{HOW} Public keys in files whose path names `authorized_keys` are reported."),
                false_positives: "An `authorized_keys` file that the device never uses (a skeleton for a home \
                    directory that is not created)."
                    .into(),
                false_negatives: "Keys authorized by other means (sshd `AuthorizedKeysFile` pointing elsewhere, \
                    dropbear's `-R`, keys in configuration databases) are not reported."
                    .into(),
                example: "`rootfs ▸ /root/.ssh/authorized_keys`: ssh-rsa 2048-bit key `vendor@build`.".into(),
            },
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}
