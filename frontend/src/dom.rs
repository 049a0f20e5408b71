//! Small DOM builders for the parts of the page drawn by hand (`summary`, `screens`). Text and
//! merchant URLs go in as text nodes and attribute values, never as HTML; the only markup
//! parsed is the page's own constant SVG (payment marks, the QR code's frame).

use web_sys::Element;

/// The element with `id`, if it is in the document.
#[must_use]
pub fn by_id(id: &str) -> Option<Element> {
    leptos::prelude::document().get_element_by_id(id)
}

/// Removes everything inside `element`.
pub fn clear(element: &Element) {
    element.set_text_content(None);
}

/// Appends a new `<tag class>` to `parent`.
pub fn add(parent: &Element, tag: &str, class: &str) -> Option<Element> {
    let element = leptos::prelude::document().create_element(tag).ok()?;
    if !class.is_empty() {
        element.set_class_name(class);
    }
    parent.append_child(&element).ok()?;
    Some(element)
}

/// Appends a new `<tag class>` holding `content` as text.
pub fn text(parent: &Element, tag: &str, class: &str, content: &str) -> Option<Element> {
    let element = add(parent, tag, class)?;
    element.set_text_content(Some(content));
    Some(element)
}

/// Sets an attribute.
pub fn set(element: &Element, name: &str, value: &str) {
    // Only fails for an invalid attribute name; the page's are constants.
    let _ = element.set_attribute(name, value);
}

/// Appends a `<button type="button" id class>` labelled `label`. The page handles its clicks
/// in one place, by the button's id (`screens::clicked`).
pub fn button(parent: &Element, id: &str, class: &str, label: &str) -> Option<Element> {
    let button = text(parent, "button", class, label)?;
    set(&button, "type", "button");
    set(&button, "id", id);
    Some(button)
}

/// Inserts the page's own constant markup (SVG) at the start of `element`.
pub fn prepend_markup(element: &Element, markup: &str) {
    let _ = element.insert_adjacent_html("afterbegin", markup);
}

/// Inserts the page's own constant markup (SVG) at the end of `element`.
pub fn append_markup(element: &Element, markup: &str) {
    let _ = element.insert_adjacent_html("beforeend", markup);
}
