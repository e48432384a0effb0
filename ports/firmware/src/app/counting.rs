//! A driver wrapper that counts frames and bytes for `show interfaces`,
//! whatever the board's Ethernet controller is.

use core::task::Context;

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState, RxToken, TxToken};

use super::stats::Stats;

/// Wraps any [`Driver`] and counts what passes through it into a [`Stats`].
#[derive(Debug)]
pub struct CountingDriver<D> {
    inner: D,
    stats: &'static Stats,
}

impl<D: Driver> CountingDriver<D> {
    /// Wraps `inner`; frames are counted into `stats`.
    pub fn new(inner: D, stats: &'static Stats) -> Self {
        Self { inner, stats }
    }
}

/// A received frame; counted when the stack consumes it.
#[derive(Debug)]
pub struct CountingRx<T> {
    inner: T,
    stats: &'static Stats,
}

/// A transmit slot; counted when the stack fills it.
#[derive(Debug)]
pub struct CountingTx<T> {
    inner: T,
    stats: &'static Stats,
}

impl<T: RxToken> RxToken for CountingRx<T> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let stats = self.stats;
        self.inner.consume(|frame| {
            stats.rx_frames.inc();
            stats.rx_bytes.add(frame.len());
            f(frame)
        })
    }
}

impl<T: TxToken> TxToken for CountingTx<T> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        self.stats.tx_frames.inc();
        self.stats.tx_bytes.add(len);
        self.inner.consume(len, f)
    }
}

impl<D: Driver> Driver for CountingDriver<D> {
    type RxToken<'a>
        = CountingRx<D::RxToken<'a>>
    where
        Self: 'a;
    type TxToken<'a>
        = CountingTx<D::TxToken<'a>>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let stats = self.stats;
        self.inner.receive(cx).map(|(rx, tx)| {
            (
                CountingRx { inner: rx, stats },
                CountingTx { inner: tx, stats },
            )
        })
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<Self::TxToken<'_>> {
        let stats = self.stats;
        self.inner
            .transmit(cx)
            .map(|tx| CountingTx { inner: tx, stats })
    }

    fn link_state(&mut self, cx: &mut Context<'_>) -> LinkState {
        self.inner.link_state(cx)
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn hardware_address(&self) -> HardwareAddress {
        self.inner.hardware_address()
    }
}
