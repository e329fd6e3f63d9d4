//! splitmix64: small, fast, and the same numbers on every platform forever,
//! which is what "same seed, same bytes" needs.

pub struct Rng(u64);

impl Rng {
    /// The stream for one council of one seed.
    pub fn new(seed: u64, council: u64) -> Self {
        let mut rng = Rng(seed ^ council.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        rng.next_u64();
        rng
    }

    /// A stream from a raw state (the committed examples' generator).
    pub fn seeded(state: u64) -> Self {
        Rng(state)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A chance in ten thousand, for rates per month.
    pub fn basis_points(&mut self, bp: u64) -> bool {
        self.below(10_000) < bp
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }
}
