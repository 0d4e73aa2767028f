//! Any error body from the Cursor API: it parses, and the message built from
//! it is one line that cannot start a workflow command or ping anyone.
#![no_main]

use cursor_api::{CursorError, Endpoint, ErrorBody};
use cursor_agent_action::markdown::{raw_html_in, sanitize_inline};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let body = ErrorBody::parse(&Default::default(), data);
    for status in [400, 401, 403, 404, 409, 429, 500, 502] {
        let error = CursorError::Status {
            endpoint: Endpoint::Launch,
            status,
            body: body.clone(),
            retry_after: None,
        };
        let message = error.actionable("o/r");
        assert!(!message.contains('\n') && !message.contains('\r'));
        let _ = error.class();
        let md = sanitize_inline(&Default::default(), &message);
        // `<` may remain inside a code span, where it is text.
        assert_eq!(raw_html_in(&md), None, "{md:?}");
    }
});
