//! What the demo store sells. Prices live only here: `POST /demo/buy` names a product and the
//! price is looked up on the server, never taken from the form.

/// One product of the demo store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// The id the buy form posts.
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub note_zh: &'static str,
    pub note_en: &'static str,
    /// Price in fen.
    pub amount: i64,
}

/// The catalogue, in display order. The last one uses the sandbox's "payer declines" amount so a
/// newcomer can see a failed payment too.
pub const PRODUCTS: [Product; 4] = [
    Product {
        id: "latte",
        name_zh: "拿铁咖啡",
        name_en: "Latte",
        note_zh: "大杯，燕麦奶",
        note_en: "Large, oat milk",
        amount: 2_800,
    },
    Product {
        id: "oolong",
        name_zh: "乌龙茶 100 克",
        name_en: "Oolong tea, 100 g",
        note_zh: "安溪铁观音",
        note_en: "Tieguanyin from Anxi",
        amount: 6_800,
    },
    Product {
        id: "mooncakes",
        name_zh: "月饼礼盒",
        name_en: "Mooncake gift box",
        note_zh: "六只装",
        note_en: "Box of six",
        amount: 12_800,
    },
    Product {
        id: "declined",
        name_zh: "测试：拒绝支付",
        name_en: "Test: a declined payment",
        note_zh: "沙箱中付款方会取消这笔支付",
        note_en: "In the sandbox the payer cancels this one",
        amount: 4_001,
    },
];

/// The product with `id`.
#[must_use]
pub fn find(id: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.id == id)
}

/// Fen as a yuan price, `2800` → `¥28.00`.
#[must_use]
pub fn yuan(fen: i64) -> String {
    paybridge_shared::MinorUnits(fen).display(paybridge_shared::Currency::Cny)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_formatted_in_yuan_from_fen() {
        assert_eq!(yuan(2_800), "¥28.00");
        assert_eq!(yuan(4_001), "¥40.01");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(-150), "-¥1.50");
    }

    #[test]
    fn products_are_found_by_id_only() {
        assert_eq!(find("latte").map(|p| p.amount), Some(2_800));
        assert!(find("LATTE").is_none());
        assert!(find("").is_none());
        let mut ids: Vec<_> = PRODUCTS.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), PRODUCTS.len());
    }
}
