//! Where apicov's documents come from: the swagger spec and the tracking
//! lists by path, `file://` or `http(s)://` URL ([`source`], cached and
//! revalidated on disk), their catalogue and lists kept compiled in the cache
//! directory ([`catalogue_cache`]), and, with the `remote` feature, CI runs
//! read from Google Cloud Storage ([`gcs`], [`remote`]).

#![deny(missing_docs)]

pub mod catalogue_cache;
#[cfg(feature = "remote")]
pub mod gcs;
#[cfg(feature = "remote")]
pub mod remote;
pub mod source;
