//! `models/manifest.json`, compiled in, and the check of a model folder against it.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{InsightError, Result};

/// Environment variable naming the models folder (default: the repository's `models/`).
pub const MODELS_DIR_ENV: &str = "HEARTH_MODELS_DIR";

/// The manifest as shipped in the repository, compiled into the binary so that the expected
/// hashes cannot be changed by whoever can write to the models folder.
const MANIFEST_JSON: &str = include_str!("../../../models/manifest.json");

/// The models folder: `$HEARTH_MODELS_DIR` if set, else the repository's `models/` (where
/// `make setup` installs them; a packaged app sets the variable).
pub fn default_models_dir() -> PathBuf {
    match std::env::var_os(MODELS_DIR_ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"),
    }
}

/// Every model Hearth knows.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// Manifest format (1).
    pub format: u32,
    /// The models.
    pub models: Vec<ModelEntry>,
}

/// One model: where it comes from and the files it is made of.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelEntry {
    /// Folder name under `models/`.
    pub id: String,
    /// What it is.
    pub description: String,
    /// The licence honoured.
    pub licence: String,
    /// Longest input, in word pieces.
    pub max_seq_length: usize,
    /// Embedding dimension.
    pub dimension: usize,
    /// Its files.
    pub files: Vec<ModelFile>,
}

/// One file of a model.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelFile {
    /// Path relative to the model folder.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

impl Manifest {
    /// The compiled-in manifest.
    pub fn builtin() -> Result<Self> {
        let m: Manifest = serde_json::from_str(MANIFEST_JSON)
            .map_err(|e| InsightError::Manifest(format!("unreadable: {e}")))?;
        if m.format != 1 {
            return Err(InsightError::Manifest(format!(
                "format {} is not 1",
                m.format
            )));
        }
        Ok(m)
    }

    /// The entry for model `id`.
    pub fn model(&self, id: &str) -> Result<&ModelEntry> {
        self.models
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| InsightError::Manifest(format!("no model {id}")))
    }
}

impl ModelEntry {
    /// The manifest entry of file `path`.
    pub fn file(&self, path: &str) -> Result<&ModelFile> {
        self.files
            .iter()
            .find(|f| f.path == path)
            .ok_or_else(|| InsightError::Manifest(format!("model {} lists no {path}", self.id)))
    }

    /// Read one of the model's files from `dir/<id>/` and check it against the manifest:
    /// missing, wrong size (checked before reading) or wrong SHA-256 is an error naming it.
    /// The bytes returned are the bytes checked (no second read a swap could slip into).
    pub fn read_checked(&self, models_dir: &Path, path: &str) -> Result<Vec<u8>> {
        let entry = self.file(path)?;
        let folder = models_dir.join(&self.id);
        let full = folder.join(path);
        let meta = match std::fs::metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let what = if folder.is_dir() {
                    format!("no {path}")
                } else {
                    format!("no folder {}", self.id)
                };
                return Err(InsightError::ModelMissing {
                    model: self.id.clone(),
                    dir: models_dir.to_path_buf(),
                    what,
                });
            }
            Err(source) => return Err(InsightError::Io { path: full, source }),
        };
        if meta.len() != entry.size {
            return Err(InsightError::ModelCorrupt {
                model: self.id.clone(),
                file: path.to_string(),
                what: format!("has {} bytes, expected {}", meta.len(), entry.size),
            });
        }
        let bytes = std::fs::read(&full).map_err(|source| InsightError::Io {
            path: full.clone(),
            source,
        })?;
        let got = hex::encode(Sha256::digest(&bytes));
        if got != entry.sha256 {
            return Err(InsightError::ModelCorrupt {
                model: self.id.clone(),
                file: path.to_string(),
                what: format!("has SHA-256 {got}, expected {}", entry.sha256),
            });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lists_the_files_the_encoder_needs() {
        let m = Manifest::builtin().unwrap();
        let e = m.model(crate::ENCODER_ID).unwrap();
        for f in ["model.safetensors", "config.json", "tokenizer.json"] {
            let file = e.file(f).unwrap();
            assert_eq!(file.sha256.len(), 64, "{f}");
            assert!(file.size > 0);
        }
        assert_eq!((e.dimension, e.max_seq_length), (384, 256));
        assert!(e.licence.starts_with("Apache-2.0"));
    }

    #[test]
    fn a_missing_folder_says_run_make_setup() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest::builtin().unwrap();
        let e = m.model(crate::ENCODER_ID).unwrap();
        let err = e.read_checked(dir.path(), "config.json").unwrap_err();
        assert!(err.needs_setup());
        let msg = err.to_string();
        assert!(
            msg.contains("make setup") && msg.contains("not installed"),
            "{msg}"
        );
    }

    #[test]
    fn a_file_with_the_right_size_but_other_bytes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest::builtin().unwrap();
        let e = m.model(crate::ENCODER_ID).unwrap();
        let size = e.file("config.json").unwrap().size as usize;
        std::fs::create_dir_all(dir.path().join(&e.id)).unwrap();
        std::fs::write(dir.path().join(&e.id).join("config.json"), vec![b' '; size]).unwrap();
        let err = e.read_checked(dir.path(), "config.json").unwrap_err();
        assert!(matches!(err, InsightError::ModelCorrupt { .. }), "{err}");
        assert!(err.to_string().contains("SHA-256"), "{err}");
        std::fs::write(dir.path().join(&e.id).join("config.json"), b"{}").unwrap();
        let err = e.read_checked(dir.path(), "config.json").unwrap_err();
        assert!(err.to_string().contains("bytes, expected"), "{err}");
    }
}
