//! What can go wrong, each with what to do about it.

use std::path::PathBuf;

/// An error from loading or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InsightError {
    /// The model folder or one of its files is not there.
    #[error(
        "the on-device model {model} is not installed ({what} in {}); run `make setup` to fetch it",
        dir.display()
    )]
    ModelMissing {
        /// Model id.
        model: String,
        /// The folder searched.
        dir: PathBuf,
        /// What is missing.
        what: String,
    },
    /// A model file differs from the manifest (size or SHA-256).
    #[error(
        "the on-device model {model} is damaged: {file} {what}; run `make setup` to fetch it again"
    )]
    ModelCorrupt {
        /// Model id.
        model: String,
        /// File, relative to the model folder.
        file: String,
        /// How it differs.
        what: String,
    },
    /// A model file could not be read.
    #[error("could not read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The compiled-in manifest does not describe the model (a build defect).
    #[error("models/manifest.json: {0}")]
    Manifest(String),
    /// The files passed their checks but could not be turned into a model.
    #[error("loading the on-device model {model} failed: {what}")]
    Load {
        /// Model id.
        model: String,
        /// What failed.
        what: String,
    },
    /// Tokenising text failed.
    #[error("tokenising text for the encoder failed: {0}")]
    Tokenizer(String),
    /// Running the encoder failed.
    #[error("running the encoder failed: {0}")]
    Inference(#[from] candle_core::Error),
}

impl InsightError {
    /// Whether running `make setup` is the fix (model missing or damaged).
    pub fn needs_setup(&self) -> bool {
        matches!(self, Self::ModelMissing { .. } | Self::ModelCorrupt { .. })
    }
}
