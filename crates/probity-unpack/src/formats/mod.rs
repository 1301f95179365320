//! The format registry: one module per format, one line each in [`registry`].

use crate::format::Format;

pub mod bzip2;
pub mod codec;
pub mod gzip;
pub mod lz4;
pub mod lzma;
pub mod lzop;
pub mod squashfs;
pub mod tplink;
pub mod trx;
pub mod uimage;
pub mod xz;
pub mod zlib;
pub mod zstd;

/// Every format the signature scan knows, in priority order (at the same offset, earlier formats
/// are tried first).
pub fn registry() -> &'static [&'static dyn Format] {
    static REGISTRY: &[&dyn Format] = &[
        &squashfs::Squashfs,
        &uimage::UImage,
        &trx::Trx,
        &tplink::TpLink,
        &gzip::Gzip,
        &xz::Xz,
        &bzip2::Bzip2,
        &zstd::Zstd,
        &lz4::Lz4,
        &lzop::Lzop,
        &lzma::Lzma,
        &zlib::Zlib,
    ];
    REGISTRY
}
