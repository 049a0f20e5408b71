//! The page's two languages: Simplified Chinese and English, chosen from the session's locale
//! or the browser's, and switchable by the shopper.

/// A language of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// The merchant's choice (`zh-CN`, `en`) if any, else the browser's `navigator.language`.
    #[must_use]
    pub fn choose(session_locale: Option<&str>, browser: &str) -> Self {
        let tag = session_locale.unwrap_or(browser).to_ascii_lowercase();
        if tag.starts_with("zh") {
            Self::Zh
        } else {
            Self::En
        }
    }

    /// The other language.
    #[must_use]
    pub const fn other(self) -> Self {
        match self {
            Self::En => Self::Zh,
            Self::Zh => Self::En,
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    #[must_use]
    pub const fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh-CN",
        }
    }

    /// The page's texts in this language.
    #[must_use]
    pub const fn text(self) -> &'static Text {
        match self {
            Self::En => &EN,
            Self::Zh => &ZH,
        }
    }
}

/// Every string the page shows.
pub struct Text {
    /// The name of this language, in itself (on the switch button of the other language).
    pub own_name: &'static str,
    pub switch_label: &'static str,
    pub loading: &'static str,
    pub not_found: &'static str,
    pub not_found_body: &'static str,
    pub error: &'static str,
    pub amount: &'static str,
    pub pay: &'static str,
    pub qr_instead: &'static str,
    pub starting: &'static str,
    pub redirecting: &'static str,
    pub scan: &'static str,
    pub qr_label: &'static str,
    pub expires_in: &'static str,
    pub qr_expired: &'static str,
    pub new_qr: &'static str,
    pub simulate_scan: &'static str,
    pub sheet: &'static str,
    pub mini_program: &'static str,
    pub confirming: &'static str,
    pub confirming_slow: &'static str,
    pub i_have_paid: &'static str,
    pub pay_again: &'static str,
    pub succeeded: &'static str,
    pub returning: &'static str,
    pub seconds: &'static str,
    pub continue_: &'static str,
    pub failed: &'static str,
    pub failed_body: &'static str,
    pub cancelled: &'static str,
    pub cancelled_body: &'static str,
    pub retry: &'static str,
    pub expired: &'static str,
    pub expired_body: &'static str,
    pub network: &'static str,
    pub bad_answer: &'static str,
    pub provider: &'static str,
    pub oauth_denied: &'static str,
    pub oauth_incomplete: &'static str,
    /// Followed by the merchant's name.
    pub back_to: &'static str,
    pub no_bridge: &'static str,
    pub no_mini_program: &'static str,
    pub alipay: &'static str,
    pub alipay_instead: &'static str,
    pub wechat_instead: &'static str,
    pub alipay_redirecting: &'static str,
    pub alipay_scan: &'static str,
    pub alipay_qr_label: &'static str,
    pub open_in_browser: &'static str,
    pub open_in_browser_body: &'static str,
    /// After a count of one item, and of several (`1 item`, `3 items`).
    pub item: &'static str,
    pub items: &'static str,
    pub support: &'static str,
    pub support_site: &'static str,
    /// The expired screen's link to a new session with the same contents.
    pub recover: &'static str,
    pub recover_body: &'static str,
}

static EN: Text = Text {
    own_name: "English",
    switch_label: "Switch language",
    loading: "Loading…",
    not_found: "Checkout not found",
    not_found_body: "This payment link is wrong or no longer exists. Please go back to the shop and start again.",
    error: "Something went wrong",
    amount: "Amount",
    pay: "Pay with WeChat Pay",
    qr_instead: "Pay with a QR code instead",
    starting: "Preparing your payment…",
    redirecting: "Opening WeChat Pay…",
    scan: "Scan with WeChat to pay",
    qr_label: "WeChat Pay QR code",
    expires_in: "Expires in",
    qr_expired: "This QR code has expired.",
    new_qr: "Get a new QR code",
    simulate_scan: "Simulate scanning (sandbox)",
    sheet: "Complete the payment in WeChat.",
    mini_program: "Continue in the mini program…",
    confirming: "Confirming your payment…",
    confirming_slow: "This is taking longer than usual. If you have paid, we will notice shortly.",
    i_have_paid: "I have paid",
    pay_again: "Pay again",
    succeeded: "Payment successful",
    returning: "Returning to the shop in",
    seconds: "s",
    continue_: "Continue",
    failed: "Payment failed",
    failed_body: "WeChat Pay could not complete the payment. You have not been charged.",
    cancelled: "Payment cancelled",
    cancelled_body: "You have not been charged.",
    retry: "Try again",
    expired: "This checkout has expired",
    expired_body: "Please go back to the shop and start again.",
    network: "We could not reach the payment server. Check your connection and try again.",
    bad_answer: "The payment server sent an answer this page does not understand.",
    provider: "WeChat Pay did not accept the payment right now. Please try again.",
    oauth_denied: "WeChat sign-in was declined. You can pay with a QR code instead.",
    oauth_incomplete: "WeChat sign-in did not complete (the link was already used or has expired). Please try again.",
    back_to: "Back to ",
    no_bridge: "WeChat Pay is not available here. Open this page in WeChat, or pay with a QR code.",
    no_mini_program: "The mini program could not be reached. Pay with a QR code instead.",
    alipay: "Pay with Alipay",
    alipay_instead: "Pay with Alipay instead",
    wechat_instead: "Pay with WeChat Pay instead",
    alipay_redirecting: "Opening Alipay…",
    alipay_scan: "Scan with Alipay to pay",
    alipay_qr_label: "Alipay QR code",
    open_in_browser: "Open this page in your browser to pay with Alipay",
    open_in_browser_body: "WeChat does not open Alipay. Tap ··· at the top right and choose “Open in Browser”, or copy this link:",
    item: " item",
    items: " items",
    support: "Need help?",
    support_site: "Help centre",
    recover: "Start a new checkout",
    recover_body: "You can start again with the same order.",
};

static ZH: Text = Text {
    own_name: "中文",
    switch_label: "切换语言",
    loading: "加载中…",
    not_found: "找不到该支付订单",
    not_found_body: "支付链接有误或已失效，请返回商家重新下单。",
    error: "出错了",
    amount: "金额",
    pay: "微信支付",
    qr_instead: "改用二维码支付",
    starting: "正在准备支付…",
    redirecting: "正在打开微信支付…",
    scan: "请使用微信扫一扫支付",
    qr_label: "微信支付二维码",
    expires_in: "剩余时间",
    qr_expired: "二维码已过期。",
    new_qr: "刷新二维码",
    simulate_scan: "模拟扫码（沙箱）",
    sheet: "请在微信中完成支付。",
    mini_program: "请在小程序中继续支付…",
    confirming: "正在确认支付结果…",
    confirming_slow: "确认时间比平时长。如果你已支付，稍后会自动更新。",
    i_have_paid: "我已支付",
    pay_again: "重新支付",
    succeeded: "支付成功",
    returning: "即将返回商家",
    seconds: "秒",
    continue_: "继续",
    failed: "支付失败",
    failed_body: "微信支付未能完成付款，你没有被扣款。",
    cancelled: "已取消支付",
    cancelled_body: "你没有被扣款。",
    retry: "重试",
    expired: "该订单已过期",
    expired_body: "请返回商家重新下单。",
    network: "无法连接支付服务器，请检查网络后重试。",
    bad_answer: "支付服务器的应答无法识别。",
    provider: "微信支付暂时无法受理，请稍后重试。",
    oauth_denied: "你拒绝了微信授权，可以改用二维码支付。",
    oauth_incomplete: "微信授权未完成（链接已使用或已过期），请重试。",
    back_to: "返回",
    no_bridge: "当前环境无法使用微信支付，请在微信中打开本页面，或改用二维码支付。",
    no_mini_program: "无法跳转到小程序，请改用二维码支付。",
    alipay: "支付宝",
    alipay_instead: "改用支付宝付款",
    wechat_instead: "改用微信支付",
    alipay_redirecting: "正在打开支付宝…",
    alipay_scan: "请使用支付宝扫一扫支付",
    alipay_qr_label: "支付宝二维码",
    open_in_browser: "请在浏览器中打开本页面以使用支付宝",
    open_in_browser_body: "微信内无法打开支付宝。请点击右上角 ··· ，选择“在浏览器打开”，或复制以下链接：",
    item: " 件商品",
    items: " 件商品",
    support: "需要帮助？",
    support_site: "在线客服",
    recover: "重新下单",
    recover_body: "可以按原订单内容重新下单。",
};

impl Text {
    /// `3 items`, `3 件商品`.
    #[must_use]
    pub fn item_count(&self, n: u64) -> String {
        let mut text = crate::format::number(n);
        text.push_str(if n == 1 { self.item } else { self.items });
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_locale_beats_the_browser() {
        assert_eq!(Lang::choose(None, "zh-CN"), Lang::Zh);
        assert_eq!(Lang::choose(None, "zh-TW"), Lang::Zh);
        assert_eq!(Lang::choose(None, "en-US"), Lang::En);
        assert_eq!(Lang::choose(Some("en"), "zh-CN"), Lang::En);
        assert_eq!(Lang::choose(Some("zh-CN"), "fr"), Lang::Zh);
    }

    #[test]
    fn item_counts_agree_with_their_number() {
        assert_eq!(Lang::En.text().item_count(1), "1 item");
        assert_eq!(Lang::En.text().item_count(3), "3 items");
        assert_eq!(Lang::Zh.text().item_count(3), "3 件商品");
    }
}
