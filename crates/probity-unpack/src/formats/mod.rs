//! The format registry: one module per format, one line each in [`registry`].

use crate::format::Format;

pub mod ar;
pub mod avm_fake;
pub mod bzip2;
pub mod codec;
pub mod compress;
pub mod cpio;
pub mod cramfs;
pub mod dtb;
pub mod ext;
pub mod fat;
pub mod gzip;
pub mod hexfile;
pub mod iso9660;
pub mod jffs2;
pub mod kernel;
pub mod known;
pub mod lz4;
pub mod lzip;
pub mod lzma;
pub mod lzop;
pub mod mbr;
pub mod media;
pub mod paths;
pub mod picture;
pub mod romfs;
pub mod sevenz;
pub mod sparse;
pub mod squashfs;
pub mod squashfs_legacy;
pub mod tar;
pub mod tplink;
pub mod trx;
pub mod ubi;
pub mod ubifs;
pub mod uimage;
pub mod xz;
pub mod yaffs2;
pub mod zip;
pub mod zlib;
pub mod zstd;

/// Every format the signature scan knows, in priority order (at the same offset, earlier formats
/// are tried first).
pub fn registry() -> &'static [&'static dyn Format] {
    static REGISTRY: &[&dyn Format] = &[
        &squashfs::Squashfs,
        &avm_fake::AvmFakeSquashfs,
        &uimage::UImage,
        &trx::Trx,
        &tplink::TpLink,
        &cpio::Cpio,
        &tar::Tar,
        &zip::Zip,
        &ar::Ar,
        &cramfs::Cramfs,
        &romfs::Romfs,
        &jffs2::Jffs2,
        &ext::Ext,
        &yaffs2::Yaffs2,
        &fat::Fat,
        &iso9660::Iso9660,
        &mbr::Mbr,
        &sevenz::SevenZ,
        &dtb::Dtb,
        &ubi::Ubi,
        &ubifs::Ubifs,
        &sparse::AndroidSparse,
        &kernel::LinuxKernel,
        &hexfile::IntelHex,
        &hexfile::Srec,
        &picture::Picture,
        &media::Media,
        &known::ARJ,
        &known::CAB,
        &known::LHA,
        &known::LRZIP,
        &known::ZOO,
        &known::ZPAQ,
        &known::STUFFIT,
        &known::SHAR,
        &known::QCOW,
        &known::BTRFS,
        &known::F2FS,
        &known::JFS,
        &known::MINIX,
        &known::REISERFS,
        &known::UDF,
        &known::XFS,
        &known::HFSPLUS,
        &known::NTFS,
        &gzip::Gzip,
        &xz::Xz,
        &lzip::Lzip,
        &compress::Compress,
        &bzip2::Bzip2,
        &zstd::Zstd,
        &lz4::Lz4,
        &lzop::Lzop,
        &lzma::Lzma,
        &zlib::Zlib,
    ];
    REGISTRY
}
