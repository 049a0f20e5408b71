//! A `code_url` drawn as a QR code: one SVG path of dark runs, crisp at any size.
//!
//! The encoder is the page's own and does only what a payment URL needs — byte mode, error
//! correction level M, versions 1–40, the mask with the lowest penalty (ISO/IEC 18004 §7–8,
//! laid out as in Project Nayuki's QR Code generator). A general encoder crate cost the wasm
//! 12 kB brotli, a sixth of the page; this one costs about a tenth of that.

use crate::format::push_number;

/// Modules of light margin around the code (the QR specification's quiet zone).
const QUIET: usize = 4;

/// Error-correction codewords per block at level M, by version − 1.
const ECC_PER_BLOCK: [u8; 40] = [
    10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
];
/// Error-correction blocks at level M, by version − 1.
const BLOCKS: [u8; 40] = [
    1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25,
    26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
];

/// The SVG `viewBox` size and path data for `text`, or `None` when it is too long to encode.
#[must_use]
pub fn svg_path(text: &str) -> Option<(usize, String)> {
    let code = Code::encode(text.as_bytes())?;
    let size = code.size;
    let mut d = String::with_capacity(size * size);
    for y in 0..size {
        let mut x = 0;
        while x < size {
            let start = x;
            while x < size && code.dark(x, y) {
                x += 1;
            }
            if x > start {
                let run = (x - start) as u64;
                d.push('M');
                push_number(&mut d, (start + QUIET) as u64);
                d.push(' ');
                push_number(&mut d, (y + QUIET) as u64);
                d.push('h');
                push_number(&mut d, run);
                d.push_str("v1h-");
                push_number(&mut d, run);
                d.push('z');
            }
            x += 1;
        }
    }
    Some((size + 2 * QUIET, d))
}

/// A QR code's modules, row by row.
pub struct Code {
    /// Modules per side.
    pub size: usize,
    modules: Vec<bool>,
    function: Vec<bool>,
}

impl Code {
    /// Whether the module at column `x`, row `y` is dark.
    #[must_use]
    pub fn dark(&self, x: usize, y: usize) -> bool {
        self.modules[y * self.size + x]
    }

    /// `data` in byte mode at level M, in the smallest version it fits.
    #[must_use]
    pub fn encode(data: &[u8]) -> Option<Self> {
        let version =
            (1..=40).find(|&v| 4 + count_bits(v) + 8 * data.len() <= 8 * data_codewords(v))?;
        let capacity = data_codewords(version);
        let mut bits = Bits::default();
        bits.push(0b0100, 4);
        bits.push(data.len() as u32, count_bits(version));
        for &b in data {
            bits.push(u32::from(b), 8);
        }
        // Terminator (up to four zero bits), then to a whole byte, then the pad bytes.
        let room = 8 * capacity - bits.len;
        bits.push(0, room.min(4));
        bits.push(0, (8 - bits.len % 8) % 8);
        let mut codewords = bits.bytes;
        let mut pad = 0xEC;
        while codewords.len() < capacity {
            codewords.push(pad);
            pad ^= 0xEC ^ 0x11;
        }

        let size = version * 4 + 17;
        let mut code = Self {
            size,
            modules: vec![false; size * size],
            function: vec![false; size * size],
        };
        code.draw_function_patterns(version);
        code.draw_codewords(&with_ecc(&codewords, version));
        let mut best = (u32::MAX, 0);
        for mask in 0..8 {
            code.apply_mask(mask);
            code.draw_format(mask);
            let penalty = code.penalty();
            if penalty < best.0 {
                best = (penalty, mask);
            }
            // Masking twice undoes it.
            code.apply_mask(mask);
        }
        code.apply_mask(best.1);
        code.draw_format(best.1);
        Some(code)
    }

    fn set_function(&mut self, x: usize, y: usize, dark: bool) {
        let i = y * self.size + x;
        self.modules[i] = dark;
        self.function[i] = true;
    }

    fn draw_function_patterns(&mut self, version: usize) {
        let size = self.size;
        for i in 0..size {
            self.set_function(6, i, i % 2 == 0);
            self.set_function(i, 6, i % 2 == 0);
        }
        for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            self.draw_finder(x, y);
        }
        let align = alignment_positions(version, size);
        let last = align.len().saturating_sub(1);
        for (i, &x) in align.iter().enumerate() {
            for (j, &y) in align.iter().enumerate() {
                // Not over the three finder patterns.
                let corner = (i == 0 && (j == 0 || j == last)) || (i == last && j == 0);
                if !corner {
                    self.draw_square(x, y, 2, |d| d != 1);
                }
            }
        }
        // Reserve the format areas; the real bits are drawn once the mask is chosen.
        self.draw_format(0);
        if version >= 7 {
            let mut rem = version;
            for _ in 0..12 {
                rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
            }
            let bits = (version << 12) | rem;
            for i in 0..18 {
                let dark = (bits >> i) & 1 == 1;
                let (a, b) = (size - 11 + i % 3, i / 3);
                self.set_function(a, b, dark);
                self.set_function(b, a, dark);
            }
        }
    }

    /// A finder pattern (with its light separator) centred on `(x, y)`.
    fn draw_finder(&mut self, x: usize, y: usize) {
        self.draw_square(x, y, 4, |d| d != 2 && d != 4);
    }

    /// The modules within `radius` of `(x, y)` that fall inside the code, dark where `dark`
    /// holds for their distance from the centre.
    fn draw_square(&mut self, x: usize, y: usize, radius: usize, dark: impl Fn(usize) -> bool) {
        for yy in y.saturating_sub(radius)..=(y + radius).min(self.size - 1) {
            for xx in x.saturating_sub(radius)..=(x + radius).min(self.size - 1) {
                let distance = xx.abs_diff(x).max(yy.abs_diff(y));
                self.set_function(xx, yy, dark(distance));
            }
        }
    }

    fn draw_format(&mut self, mask: usize) {
        // Level M's two format bits are 00.
        let data = mask;
        let mut rem = data;
        for _ in 0..10 {
            rem = (rem << 1) ^ ((rem >> 9) * 0x537);
        }
        let bits = ((data << 10) | rem) ^ 0x5412;
        let bit = |i: usize| (bits >> i) & 1 == 1;
        let size = self.size;
        for i in 0..6 {
            self.set_function(8, i, bit(i));
        }
        self.set_function(8, 7, bit(6));
        self.set_function(8, 8, bit(7));
        self.set_function(7, 8, bit(8));
        for i in 9..15 {
            self.set_function(14 - i, 8, bit(i));
        }
        for i in 0..8 {
            self.set_function(size - 1 - i, 8, bit(i));
        }
        for i in 8..15 {
            self.set_function(8, size - 15 + i, bit(i));
        }
        self.set_function(8, size - 8, true);
    }

    /// The codewords in the zigzag order of ISO/IEC 18004 §7.7.3.
    fn draw_codewords(&mut self, data: &[u8]) {
        let size = self.size;
        let mut i = 0;
        let mut right = size - 1;
        while right >= 1 {
            if right == 6 {
                right = 5;
            }
            let upward = (right + 1) & 2 == 0;
            for vert in 0..size {
                let y = if upward { size - 1 - vert } else { vert };
                for x in [right, right - 1] {
                    let at = y * size + x;
                    if !self.function[at] && i < data.len() * 8 {
                        self.modules[at] = (data[i / 8] >> (7 - i % 8)) & 1 == 1;
                        i += 1;
                    }
                }
            }
            if right < 2 {
                break;
            }
            right -= 2;
        }
    }

    fn apply_mask(&mut self, mask: usize) {
        let size = self.size;
        for y in 0..size {
            for x in 0..size {
                let flip = match mask {
                    0 => (x + y) % 2 == 0,
                    1 => y % 2 == 0,
                    2 => x % 3 == 0,
                    3 => (x + y) % 3 == 0,
                    4 => (x / 3 + y / 2) % 2 == 0,
                    5 => x * y % 2 + x * y % 3 == 0,
                    6 => (x * y % 2 + x * y % 3) % 2 == 0,
                    _ => ((x + y) % 2 + x * y % 3) % 2 == 0,
                };
                let at = y * size + x;
                if flip && !self.function[at] {
                    self.modules[at] = !self.modules[at];
                }
            }
        }
    }

    /// The penalty of ISO/IEC 18004 §7.8.3: runs of five or more, 2×2 blocks, finder-like
    /// patterns and an unbalanced share of dark modules.
    fn penalty(&self) -> u32 {
        let size = self.size;
        let mut penalty = 0;
        let mut dark: u32 = 0;
        for a in 0..size {
            // Row a, then column a.
            for row in [true, false] {
                let at = |i: usize| {
                    let (x, y) = if row { (i, a) } else { (a, i) };
                    self.dark(x, y)
                };
                let mut run = 0;
                for i in 0..size {
                    run = if i > 0 && at(i) == at(i - 1) {
                        run + 1
                    } else {
                        1
                    };
                    if run == 5 {
                        penalty += 3;
                    } else if run > 5 {
                        penalty += 1;
                    }
                    // 1:1:3:1:1 with four light modules on one side.
                    if i + 11 <= size {
                        let window: u32 = (0..11).fold(0, |w, k| (w << 1) | u32::from(at(i + k)));
                        if window == 0b101_1101_0000 || window == 0b000_0101_1101 {
                            penalty += 40;
                        }
                    }
                }
            }
            for b in 0..size {
                if self.dark(b, a) {
                    dark += 1;
                }
                if a + 1 < size && b + 1 < size {
                    let c = self.dark(b, a);
                    if c == self.dark(b + 1, a)
                        && c == self.dark(b, a + 1)
                        && c == self.dark(b + 1, a + 1)
                    {
                        penalty += 3;
                    }
                }
            }
        }
        // 10 points for each full 5% the dark share is away from half.
        let total = (size * size) as u32;
        let k = (dark * 20)
            .abs_diff(total * 10)
            .div_ceil(total)
            .saturating_sub(1);
        penalty + k * 10
    }
}

/// Bits written most significant first into bytes.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    len: usize,
}

impl Bits {
    fn push(&mut self, value: u32, count: usize) {
        for i in (0..count).rev() {
            if self.len.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if (value >> i) & 1 == 1
                && let Some(last) = self.bytes.last_mut()
            {
                *last |= 0x80 >> (self.len % 8);
            }
            self.len += 1;
        }
    }
}

/// Bits of the character count in byte mode.
fn count_bits(version: usize) -> usize {
    if version < 10 { 8 } else { 16 }
}

/// Modules left for data and error correction once the function patterns are drawn.
fn raw_modules(version: usize) -> usize {
    let mut n = (16 * version + 128) * version + 64;
    if version >= 2 {
        let align = version / 7 + 2;
        n -= (25 * align - 10) * align - 55;
        if version >= 7 {
            n -= 36;
        }
    }
    n
}

fn data_codewords(version: usize) -> usize {
    raw_modules(version) / 8
        - usize::from(ECC_PER_BLOCK[version - 1]) * usize::from(BLOCKS[version - 1])
}

/// Centres of the alignment patterns along each axis.
fn alignment_positions(version: usize, size: usize) -> Vec<usize> {
    if version == 1 {
        return Vec::new();
    }
    let count = version / 7 + 2;
    let step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2;
    let mut positions: Vec<usize> = (0..count - 1).map(|i| size - 7 - i * step).collect();
    positions.push(6);
    positions.reverse();
    positions
}

/// The data codewords split into blocks, each followed by its Reed–Solomon codewords, and
/// interleaved (ISO/IEC 18004 §7.6).
fn with_ecc(data: &[u8], version: usize) -> Vec<u8> {
    let blocks = usize::from(BLOCKS[version - 1]);
    let ecc_len = usize::from(ECC_PER_BLOCK[version - 1]);
    let raw = raw_modules(version) / 8;
    let short_blocks = blocks - raw % blocks;
    let short_len = raw / blocks;
    let divisor = rs_divisor(ecc_len);
    let mut split = Vec::with_capacity(blocks);
    let mut k = 0;
    for i in 0..blocks {
        let len = short_len - ecc_len + usize::from(i >= short_blocks);
        let block = &data[k..k + len];
        k += len;
        split.push((block, rs_remainder(block, &divisor)));
    }
    let mut out = Vec::with_capacity(raw);
    for i in 0..=short_len - ecc_len {
        for (block, _) in &split {
            if let Some(&b) = block.get(i) {
                out.push(b);
            }
        }
    }
    for i in 0..ecc_len {
        for (_, ecc) in &split {
            out.push(ecc[i]);
        }
    }
    out
}

/// Multiplication in GF(2⁸) modulo x⁸ + x⁴ + x³ + x² + 1.
fn gf_mul(x: u8, y: u8) -> u8 {
    let mut z: u32 = 0;
    for i in (0..8).rev() {
        z = (z << 1) ^ ((z >> 7) * 0x11D);
        z ^= ((u32::from(y) >> i) & 1) * u32::from(x);
    }
    z as u8
}

/// The generator polynomial of `degree` (its leading 1 left out).
fn rs_divisor(degree: usize) -> Vec<u8> {
    let mut result = vec![0; degree];
    result[degree - 1] = 1;
    let mut root = 1;
    for _ in 0..degree {
        for j in 0..degree {
            result[j] = gf_mul(result[j], root);
            if j + 1 < degree {
                result[j] ^= result[j + 1];
            }
        }
        root = gf_mul(root, 0x02);
    }
    result
}

fn rs_remainder(data: &[u8], divisor: &[u8]) -> Vec<u8> {
    let mut result = vec![0; divisor.len()];
    for &b in data {
        let factor = b ^ result[0];
        result.rotate_left(1);
        if let Some(last) = result.last_mut() {
            *last = 0;
        }
        for (r, &d) in result.iter_mut().zip(divisor) {
            *r ^= gf_mul(d, factor);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::{Code, data_codewords, svg_path};

    #[test]
    fn draws_a_code_url_with_a_quiet_zone() {
        let (size, d) = svg_path("weixin://wxpay/bizpayurl?pr=abc123").unwrap_or_default();
        assert!(size >= 21 + 8);
        assert!(d.starts_with("M4 4h7v1h-7z"), "finder pattern's top: {d}");
    }

    #[test]
    fn capacities_at_level_m_match_the_specification() {
        // ISO/IEC 18004 Table 7: data codewords at level M.
        for (version, codewords) in [(1, 16), (2, 28), (7, 124), (10, 216), (40, 2334)] {
            assert_eq!(data_codewords(version), codewords, "version {version}");
        }
        assert_eq!(Code::encode(&[b'a'; 14]).map(|c| c.size), Some(21));
        assert_eq!(Code::encode(&[b'a'; 15]).map(|c| c.size), Some(25));
        // Byte mode at version 40: 2,331 characters.
        assert!(Code::encode(&[b'a'; 2331]).is_some());
        assert!(Code::encode(&[b'a'; 2332]).is_none());
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_decoder_reads_back_what_was_encoded_at_every_size() {
        // Lengths that land in versions 1 to 40 (the character count widens at version 10).
        let mut lengths: Vec<usize> = (0..=60).collect();
        lengths.extend([
            100, 150, 200, 211, 212, 213, 214, 300, 500, 800, 1200, 1800, 2331,
        ]);
        for len in lengths {
            let text: String = (0..len)
                .map(|i| char::from(b"weixin://wxpay/bizpayurl?pr=AbC0129xyz"[i % 38]))
                .collect();
            let code = Code::encode(text.as_bytes()).expect("fits");
            let scale = 3;
            let side = (code.size + 8) * scale;
            let image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
                let (x, y) = (x / scale, y / scale);
                let inside = (4..code.size + 4).contains(&x) && (4..code.size + 4).contains(&y);
                if inside && code.dark(x - 4, y - 4) {
                    0
                } else {
                    255
                }
            });
            let mut image = image;
            let grids = image.detect_grids();
            assert_eq!(grids.len(), 1, "one code found for length {len}");
            let (meta, content) = grids[0].decode().expect("decodes");
            assert_eq!(content, text, "length {len}");
            assert_eq!(meta.ecc_level, 0, "level M");
            assert_eq!(code.size, meta.version.0 * 4 + 17);
        }
    }
}
