//! Image files for the prompt: the format from the file's magic bytes (never
//! its name) and the real pixel dimensions from its header.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl ImageFormat {
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
            ImageFormat::WebP => "image/webp",
        }
    }
}

/// What an image header tells us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

/// Identifies a PNG, JPEG, GIF or WebP image and reads its dimensions.
pub(crate) fn inspect(bytes: &[u8]) -> Result<ImageInfo, &'static str> {
    let info = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(bytes)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        gif(bytes)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg(bytes)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        webp(bytes)
    } else {
        return Err("is not a PNG, JPEG, GIF or WebP image");
    };
    let info = info.ok_or("has a truncated or corrupt image header")?;
    if info.width == 0 || info.height == 0 {
        return Err("has zero width or height");
    }
    Ok(info)
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

fn png(b: &[u8]) -> Option<ImageInfo> {
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some(ImageInfo {
        format: ImageFormat::Png,
        width: u32::from_be_bytes(b.get(16..20)?.try_into().ok()?),
        height: u32::from_be_bytes(b.get(20..24)?.try_into().ok()?),
    })
}

/// A GIF is read whole: the logical screen descriptor, the global color
/// table, then blocks (extensions and images, each with its sub-blocks) up
/// to the trailer. At least one image must be there: a file that only
/// starts like a GIF is not one.
fn gif(b: &[u8]) -> Option<ImageInfo> {
    let info = ImageInfo {
        format: ImageFormat::Gif,
        width: le16(b, 6)?,
        height: le16(b, 8)?,
    };
    let color_table = |packed: u8| {
        if packed & 0x80 != 0 {
            3usize << ((packed & 7) + 1)
        } else {
            0
        }
    };
    // Sub-blocks: a size byte, that many bytes, until a size of 0.
    let sub_blocks = |mut i: usize| -> Option<usize> {
        loop {
            let n = *b.get(i)? as usize;
            i += 1 + n;
            if n == 0 {
                return Some(i);
            }
        }
    };
    let mut i = 13 + color_table(*b.get(10)?);
    let mut images = 0;
    loop {
        match *b.get(i)? {
            // Extension: a label, then sub-blocks.
            0x21 => {
                b.get(i + 1)?;
                i = sub_blocks(i + 2)?;
            }
            // Image: a descriptor with non-zero size, a local color table,
            // the LZW code size, then the data's sub-blocks.
            0x2C => {
                let (w, h) = (le16(b, i + 5)?, le16(b, i + 7)?);
                if w == 0 || h == 0 {
                    return None;
                }
                i += 10 + color_table(*b.get(i + 9)?);
                if !(1..=11).contains(b.get(i)?) {
                    return None;
                }
                i = sub_blocks(i + 1)?;
                images += 1;
            }
            0x3B => return (images > 0).then_some(info),
            _ => return None,
        }
    }
}

fn jpeg(b: &[u8]) -> Option<ImageInfo> {
    let mut i = 2;
    loop {
        // Skip fill bytes before a marker.
        while *b.get(i)? == 0xFF && *b.get(i + 1)? == 0xFF {
            i += 1;
        }
        if *b.get(i)? != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        i += 2;
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD8 => continue,
            0xD9 | 0xDA => return None, // end of image or start of scan before any frame
            _ => {}
        }
        let len = be16(b, i)? as usize;
        if len < 2 {
            return None;
        }
        let is_sof = matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF);
        if is_sof {
            return Some(ImageInfo {
                format: ImageFormat::Jpeg,
                height: be16(b, i + 3)?,
                width: be16(b, i + 5)?,
            });
        }
        i += len;
    }
}

fn webp(b: &[u8]) -> Option<ImageInfo> {
    let chunk = b.get(12..16)?;
    let (width, height) = match chunk {
        b"VP8 " => {
            // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit sizes.
            if b.get(23..26)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            (le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF)
        }
        b"VP8L" => {
            if *b.get(20)? != 0x2F {
                return None;
            }
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        b"VP8X" => {
            let w = u32::from_le_bytes([*b.get(24)?, *b.get(25)?, *b.get(26)?, 0]) + 1;
            let h = u32::from_le_bytes([*b.get(27)?, *b.get(28)?, *b.get(29)?, 0]) + 1;
            (w, h)
        }
        _ => return None,
    };
    Some(ImageInfo {
        format: ImageFormat::WebP,
        width,
        height,
    })
}

/// Minimal valid headers of each format, for tests in this crate and others.
pub mod samples {
    /// A PNG signature and IHDR chunk for a `w`×`h` image.
    pub fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    /// A whole GIF: screen descriptor with a 2-color table, a graphic
    /// control extension, one image (its data not decoded) and the trailer.
    pub fn gif(w: u16, h: u16) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&w.to_le_bytes());
        b.extend_from_slice(&h.to_le_bytes());
        b.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF]);
        b.extend_from_slice(&[0x21, 0xF9, 0x04, 0, 0, 0, 0, 0x00]);
        b.push(0x2C);
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&w.to_le_bytes());
        b.extend_from_slice(&h.to_le_bytes());
        b.push(0);
        b.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]);
        b
    }

    /// SOI, an APP0 segment, then a baseline SOF0 frame header.
    pub fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46];
        b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[0x03; 12]);
        b
    }

    /// An extended (VP8X) WebP header.
    pub fn webp(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00".to_vec();
        b.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
        b.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dimensions_of_each_format() {
        let cases = [
            (samples::png(1024, 768), ImageFormat::Png, 1024, 768),
            (samples::gif(320, 200), ImageFormat::Gif, 320, 200),
            (samples::jpeg(640, 480), ImageFormat::Jpeg, 640, 480),
            (samples::webp(1920, 1080), ImageFormat::WebP, 1920, 1080),
        ];
        for (bytes, format, width, height) in cases {
            assert_eq!(
                inspect(&bytes),
                Ok(ImageInfo {
                    format,
                    width,
                    height
                })
            );
        }
    }

    #[test]
    fn lossy_and_lossless_webp() {
        let mut vp8 =
            b"RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00\x00\x00\x00\x9d\x01\x2a".to_vec();
        vp8.extend_from_slice(&300u16.to_le_bytes());
        vp8.extend_from_slice(&150u16.to_le_bytes());
        assert_eq!(inspect(&vp8).unwrap().width, 300);
        let mut vp8l = b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f".to_vec();
        let bits: u32 = (99) | (49 << 14);
        vp8l.extend_from_slice(&bits.to_le_bytes());
        let info = inspect(&vp8l).unwrap();
        assert_eq!((info.width, info.height), (100, 50));
    }

    #[test]
    fn rejects_non_images_and_truncation() {
        assert!(inspect(b"hello world").is_err());
        assert!(inspect(b"%PDF-1.7").is_err());
        let png = samples::png(10, 10);
        assert!(inspect(&png[..18]).is_err());
        assert!(inspect(&samples::png(0, 10)).is_err());
        assert!(inspect(&[0xFF, 0xD8, 0xFF, 0xD9]).is_err());
    }

    #[test]
    fn a_gif_is_read_to_its_trailer() {
        let gif = samples::gif(4, 3);
        assert!(inspect(&gif).is_ok());
        // Only the signature and a screen descriptor, then text.
        let mut fake = b"GIF89a\x10\x00\x10\x00\x00\x00\x00".to_vec();
        fake.extend_from_slice(b"<?php system($_GET['c']); ?>");
        assert!(inspect(&fake).is_err());
        assert!(inspect(&gif[..13]).is_err());
        // Cut anywhere before the trailer.
        for cut in 6..gif.len() {
            assert!(inspect(&gif[..cut]).is_err(), "{cut}");
        }
        // No image before the trailer.
        let mut empty = gif[..13 + 6].to_vec();
        empty.push(0x3B);
        assert!(inspect(&empty).is_err());
        // An image of zero size.
        let mut zero = gif.clone();
        let at = gif.iter().position(|&b| b == 0x2C).unwrap();
        zero[at + 5] = 0;
        zero[at + 6] = 0;
        assert!(inspect(&zero).is_err());
        // A bad LZW code size.
        let mut lzw = gif.clone();
        lzw[at + 10] = 0;
        assert!(inspect(&lzw).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = inspect(&bytes);
        }
    }
}
