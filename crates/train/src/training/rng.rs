//! One seeded generator, split into independent streams, so that changing the
//! data never changes the initial weights and vice versa.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Data generation.
    Data = 0,
    /// Initial weights.
    Weights = 1,
    /// Lines through the data along which linear pieces are counted.
    Lines = 2,
}

/// The generator for `stream` under `seed` (ChaCha8: the same numbers on
/// every platform and every version of this tool).
pub fn stream(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng
}
