//! Member path normalisation shared by the archive formats.
//!
//! Archives store names relative (`./bin/sh`, `bin/sh`) or absolute (`/bin/sh`); members are
//! recorded as absolute paths inside their container (`/bin/sh`). Nothing else is changed: a name
//! with `..` stays as it is in the model (it is evidence) and is escaped when written to disk.

/// `./a/b`, `a/b` and `/a/b` all become `/a/b`; a trailing `/` is dropped.
pub fn normalise(name: &[u8]) -> Vec<u8> {
    let mut n = name;
    loop {
        if let Some(rest) = n.strip_prefix(b"./") {
            n = rest;
        } else if let Some(rest) = n.strip_prefix(b"/") {
            n = rest;
        } else {
            break;
        }
    }
    while let Some(rest) = n.strip_suffix(b"/") {
        n = rest;
    }
    let mut out = Vec::with_capacity(n.len() + 1);
    out.push(b'/');
    out.extend_from_slice(n);
    out
}

/// The file-type bits of a Unix mode, as an artifact kind.
pub fn kind_of_mode(mode: u32) -> probity_model::ArtifactKind {
    use probity_model::ArtifactKind as K;
    match mode & 0o170000 {
        0o040000 => K::Directory,
        0o120000 => K::Symlink,
        0o020000 => K::CharDevice,
        0o060000 => K::BlockDevice,
        0o010000 => K::Fifo,
        0o140000 => K::Socket,
        _ => K::File,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalises() {
        assert_eq!(super::normalise(b"./bin/sh"), b"/bin/sh");
        assert_eq!(super::normalise(b"bin/"), b"/bin");
        assert_eq!(super::normalise(b"///etc/passwd"), b"/etc/passwd");
        assert_eq!(super::normalise(b"../../x"), b"/../../x");
        assert_eq!(super::normalise(b"."), b"/.");
        assert_eq!(super::normalise(b""), b"/");
    }
}
