//! A fixed-capacity byte buffer for non-secret data (messages, nonces,
//! public values).

/// Up to `N` bytes, stored inline.
#[derive(Clone)]
pub(crate) struct Buf<const N: usize> {
    data: [u8; N],
    len: u16,
}

impl<const N: usize> Buf<N> {
    pub(crate) const fn new() -> Self {
        Self {
            data: [0; N],
            len: 0,
        }
    }

    /// Replaces the contents; `false` (contents cleared) if `src` does not
    /// fit.
    pub(crate) fn set(&mut self, src: &[u8]) -> bool {
        match self.data.get_mut(..src.len()) {
            Some(dst) => {
                dst.copy_from_slice(src);
                self.len = u16::try_from(src.len()).unwrap_or(0);
                true
            }
            None => {
                self.len = 0;
                false
            }
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }

    /// The whole storage, for writing a message into.
    pub(crate) fn storage_mut(&mut self) -> &mut [u8; N] {
        &mut self.data
    }

    /// Sets the length after writing into [`Buf::storage_mut`].
    pub(crate) fn set_len(&mut self, len: usize) {
        self.len = u16::try_from(len.min(N)).unwrap_or(0);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> core::fmt::Debug for Buf<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Buf({} bytes)", self.len)
    }
}
