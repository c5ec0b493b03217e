//! The [`Recording`] object: a video or audio recording in progress, fed chunk by chunk and
//! then finished (proved and queued) or aborted.

use std::sync::Mutex;

use tiezheng_sdk::capture::Recorder;

use crate::errors::{TiezhengError, invalid};
use crate::records::{CaptureResult, result};

/// A video or audio recording in progress: feed encoder output with [`Recording::write`].
#[derive(uniffi::Object)]
pub struct Recording {
    inner: Mutex<Option<Recorder<'static>>>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").finish_non_exhaustive()
    }
}

impl Recording {
    /// Wraps a recorder the device has started.
    pub(crate) fn new(rec: Recorder<'static>) -> Self {
        Self {
            inner: Mutex::new(Some(rec)),
        }
    }
}

fn finished() -> TiezhengError {
    invalid("the recording is already finished or aborted")
}

#[uniffi::export]
impl Recording {
    /// Appends a chunk of encoder output (borrowed, not copied).
    ///
    /// Kotlin: the bytes between the `ByteBuffer`'s position and limit, direct (zero-copy) or
    /// heap (copied once); the position is left unchanged (the chunk is taken whole or the call
    /// fails). Python: any bytes-like object.
    pub fn write(&self, chunk: &[u8]) -> Result<(), TiezhengError> {
        let mut g = self.inner.lock().map_err(|_| TiezhengError::Other {
            reason: "recording lock poisoned".into(),
        })?;
        g.as_mut().ok_or_else(finished)?.write(chunk)?;
        Ok(())
    }

    /// Bytes received so far.
    pub fn bytes(&self) -> u64 {
        self.inner
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(Recorder::bytes))
            .unwrap_or(0)
    }

    /// Segments closed so far.
    pub fn segments(&self) -> u64 {
        self.inner
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|r| r.segments().len() as u64))
            .unwrap_or(0)
    }

    /// Ends the recording: the file is stored and its proof signed and queued.
    pub fn finish(&self) -> Result<CaptureResult, TiezhengError> {
        let rec = self
            .inner
            .lock()
            .map_err(|_| TiezhengError::Other {
                reason: "recording lock poisoned".into(),
            })?
            .take()
            .ok_or_else(finished)?;
        result(&rec.finish()?)
    }

    /// Discards the recording: nothing is stored or queued.
    pub fn abort(&self) -> Result<(), TiezhengError> {
        let rec = self
            .inner
            .lock()
            .map_err(|_| TiezhengError::Other {
                reason: "recording lock poisoned".into(),
            })?
            .take()
            .ok_or_else(finished)?;
        rec.abort()?;
        Ok(())
    }
}
