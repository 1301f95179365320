//! `probity unpack`.

use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use anyhow::{Context, Result, bail};
use probity_model::{
    ArtifactKind, ByteString, Coverage, Manifest, ManifestEntry, ToolInfo, report::MANIFEST_VERSION,
};
use probity_report::human;
use probity_unpack::extract::Spool;
use probity_unpack::{Unpacker, output, tree};

use crate::EXIT_OK;
use crate::args::{Cli, UnpackArgs};
use crate::progress::Bar;

pub fn run(cli: &Cli, a: &UnpackArgs) -> Result<u8> {
    let shown = probity_unpack::error::display_path(&a.output);
    if a.output.exists() {
        let empty = fs::read_dir(&a.output)
            .with_context(|| format!("can not read `{shown}`"))?
            .next()
            .is_none();
        if !empty {
            bail!("`{shown}` exists and is not empty; choose a new output directory");
        }
    }
    fs::create_dir_all(&a.output).with_context(|| format!("can not create `{shown}`"))?;
    let limits = a.limits.limits();
    let bar = Bar::new(cli.quiet, cli.verbose > 0);
    let unpacker = Unpacker::new().map_err(anyhow::Error::msg)?;
    // Large members are spooled inside the output directory and removed at the end.
    let spool_dir = a.output.join(".probity-spool");
    let spool =
        Spool::in_dir(&spool_dir).with_context(|| format!("can not create `{shown}/.probity-spool`"))?;
    let result = (|| -> Result<Manifest> {
        let mut t = tree::load(&a.path, &limits, &bar).with_context(|| {
            format!(
                "can not unpack `{}`",
                probity_unpack::error::display_path(&a.path)
            )
        })?;
        unpacker.expand(&mut t, &spool, &bar);
        let (placed, write_problems) =
            output::write_tree(&t, &a.output, &bar).context("can not write the unpacked tree")?;
        for p in write_problems {
            t.add_problem(probity_model::Problem {
                artifact: None,
                stage: probity_model::Stage::Unpack,
                source: "write".into(),
                message: p,
            });
        }
        let entries = t
            .artifacts()
            .iter()
            .map(|art| ManifestEntry {
                artifact: art.clone(),
                locator: t.locator(art.id).to_string(),
                path: placed
                    .get(&art.id)
                    .map(|p| ByteString(p.as_os_str().as_bytes().to_vec())),
            })
            .collect();
        let size = t.input().size;
        let parts = t.into_parts();
        let mut coverage = Coverage::from_artifacts(size, &parts.artifacts);
        coverage.containers = parts.containers;
        Ok(Manifest {
            schema_version: MANIFEST_VERSION.into(),
            tool: ToolInfo {
                name: "probity".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            input: parts.input,
            settings: limits.to_settings(Vec::new()),
            artifacts: entries,
            coverage,
            problems: parts.problems,
        })
    })();
    bar.finish();
    drop(spool);
    let _ = fs::remove_dir_all(&spool_dir);
    let manifest = result?;
    let path = a.output.join("manifest.json");
    let f = fs::File::create(&path).with_context(|| format!("can not create `{shown}/manifest.json`"))?;
    let mut f = std::io::BufWriter::with_capacity(1 << 20, f);
    serde_json::to_writer_pretty(&mut f, &manifest)?;
    f.write_all(b"\n")?;
    f.flush()
        .with_context(|| format!("can not write `{shown}/manifest.json`"))?;
    if !cli.quiet {
        let files = manifest
            .artifacts
            .iter()
            .filter(|e| e.artifact.kind == ArtifactKind::File && e.path.is_some())
            .count();
        let written: u64 = manifest
            .artifacts
            .iter()
            .filter(|e| e.path.is_some())
            .map(|e| e.artifact.size)
            .sum();
        let root = manifest.coverage.containers.iter().find(|c| c.artifact.0 == 0);
        let explained = root
            .map(|c| {
                format!(
                    "; {:.1}% of {} input bytes explained",
                    if c.size == 0 {
                        100.0
                    } else {
                        c.explained_bytes as f64 * 100.0 / c.size as f64
                    },
                    human::thousands(c.size)
                )
            })
            .unwrap_or_default();
        eprintln!(
            "probity: unpacked {} ({}) into `{shown}`{explained}; {}; manifest `{shown}/manifest.json`",
            human::count(files as u64, "file", "files"),
            human::bytes(written),
            human::count(manifest.problems.len() as u64, "problem", "problems"),
        );
    }
    Ok(EXIT_OK)
}
