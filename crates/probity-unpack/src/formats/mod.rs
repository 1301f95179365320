//! The format registry: one module per format, one line each in [`registry`].

use crate::format::Format;

pub mod alpha_script;
pub mod ambarella;
pub mod ar;
pub mod arcadyan;
pub mod ascii85;
pub mod avm_fake;
pub mod bcm_tag;
pub mod bneg;
pub mod bosch;
pub mod broadcom_sao;
pub mod buffalo;
pub mod bzip2;
pub mod codec;
pub mod compress;
pub mod cpio;
pub mod cramfs;
pub mod cybertan;
pub mod dji;
pub mod dlink_encimg;
pub mod dlink_mh01;
pub mod dlink_shrs;
pub mod dlob;
pub mod draytek;
pub mod dtb;
pub mod ext;
pub mod fat;
pub mod gm8126;
pub mod gzip;
pub mod hexfile;
pub mod hp_pjl;
pub mod hp_update;
pub mod iso9660;
pub mod jffs2;
pub mod kernel;
pub mod known;
pub mod linksys_chdr;
pub mod lz4;
pub mod lzip;
pub mod lzma;
pub mod lzop;
pub mod matter_ota;
pub mod maxlinear;
pub mod mbr;
pub mod media;
pub mod minifs;
pub mod netgear_chk;
pub mod paths;
pub mod picture;
pub mod pkcs7;
pub mod postscript;
pub mod programstore;
pub mod realtek_cvimg;
pub mod romfs;
pub mod seama;
pub mod senao;
pub mod sevenz;
pub mod sparse;
pub mod squashfs;
pub mod squashfs_legacy;
pub mod tar;
pub mod tek_hex;
pub mod tenvis;
pub mod tplink;
pub mod trx;
pub mod ubi;
pub mod ubifs;
pub mod uimage;
pub mod vxworks;
pub mod wrmfs;
pub mod xerox_dlm;
pub mod xerox_dsk;
pub mod xiaomi;
pub mod xtek_hex;
pub mod xz;
pub mod yaffs2;
pub mod zip;
pub mod zlib;
pub mod zstd;
pub mod zynos;

/// Every format the signature scan knows, in priority order (at the same offset, earlier formats
/// are tried first).
pub fn registry() -> &'static [&'static dyn Format] {
    static REGISTRY: &[&dyn Format] = &[
        &squashfs::Squashfs,
        &avm_fake::AvmFakeSquashfs,
        &uimage::UImage,
        &trx::Trx,
        &tplink::TpLink,
        &arcadyan::Arcadyan,
        &netgear_chk::NetgearChk,
        &seama::Seama,
        &dlob::Dlob,
        &realtek_cvimg::RealtekCvimg,
        &bcm_tag::BcmTag,
        &zynos::Zynos,
        &cybertan::Cybertan,
        &linksys_chdr::LinksysChdr,
        &broadcom_sao::BroadcomSao,
        &draytek::Draytek,
        &xiaomi::Xiaomi,
        &maxlinear::Maxlinear,
        &bneg::Bneg,
        &gm8126::Gm8126,
        &ambarella::Ambarella,
        &matter_ota::MatterOta,
        &pkcs7::Pkcs7,
        &tenvis::TenvisPk2,
        &bosch::Bosch,
        &dlink_shrs::DlinkShrs,
        &dlink_mh01::DlinkMh01,
        &dlink_encimg::DlinkEncryptedImg,
        &buffalo::Buffalo,
        &senao::Senao,
        &dji::Dji,
        &alpha_script::AlphaScript,
        &hp_pjl::HpPjl,
        &hp_update::HpUpdate,
        &xerox_dlm::XeroxDlm,
        &xerox_dsk::XeroxDsk,
        &postscript::Postscript,
        &ascii85::Ascii85,
        &tek_hex::TekHex,
        &xtek_hex::ExtendedTekHex,
        &vxworks::VxWorks,
        &programstore::ProgramStore,
        &minifs::Minifs,
        &wrmfs::WindRiverMfs,
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
        &hexfile::IntelHexCarved,
        &hexfile::SrecCarved,
        &picture::Picture,
        &media::Media,
        &known::ARJ,
        &known::CAB,
        &known::LHA,
        &known::RAR,
        &known::ARC,
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

#[cfg(test)]
mod tests {
    #[test]
    fn every_format_is_documented() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/formats.md"))
            .unwrap_or_default();
        let missing: Vec<&str> = super::registry()
            .iter()
            .map(|f| f.name())
            .filter(|n| !doc.contains(&format!("| `{n}` |")))
            .collect();
        assert!(
            missing.is_empty(),
            "not in docs/formats.md (run scripts/formats-doc): {missing:?}"
        );
    }

    #[test]
    fn names_are_unique_except_for_carving_variants() {
        // A name may be shared only by two readers of one format (the anchored and the carving
        // variant of Intel HEX and S-records), since locators resolve to the first.
        let mut names: Vec<&str> = super::registry().iter().map(|f| f.name()).collect();
        names.sort_unstable();
        let dups: Vec<&str> = names.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
        assert_eq!(dups, ["ihex", "srec"]);
    }
}
