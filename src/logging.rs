//! `tracing` events routed to the [`Console`]: warnings and errors become
//! annotations inside Actions, debug events appear with `RUNNER_DEBUG=1`.
//! Events from dependencies are only ever shown as debug lines (octocrab, for
//! one, logs every 5xx as an error, which is our retry policy's business).

use crate::runner::Console;
use std::fmt::Write as _;
use std::sync::Arc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Our crates (the action, the Cursor client, the kit, the simulators): their
/// events are the action's own, whichever crate of the workspace logs them.
const OUR_CRATES: &[&str] = &["cursor_agent_action", "cursor_api", "kit", "sim"];

/// Whether an event's target (`crate::module::path`) is one of ours.
fn is_ours(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    OUR_CRATES.contains(&krate)
}

pub struct ConsoleLayer {
    console: Arc<Console>,
}

#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for ConsoleLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let ours = is_ours(meta.target());
        if !ours && !self.console.debug_enabled() {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        let line = format!("{}{}", text.message, text.fields);
        match (*meta.level(), ours) {
            (_, false) => self.console.debug(&format!("{}: {line}", meta.target())),
            (Level::ERROR, true) => self.console.error(&line),
            (Level::WARN, true) => self.console.warning(&line),
            (Level::INFO, true) => self.console.info(&line),
            (_, true) => self.console.debug(&line),
        }
    }
}

/// A subscriber that writes to `console`; install it with
/// `tracing::subscriber::set_default` for the duration of a run.
pub fn subscriber(console: Arc<Console>) -> impl Subscriber + Send + Sync {
    let max = if console.debug_enabled() {
        tracing_subscriber::filter::LevelFilter::DEBUG
    } else {
        tracing_subscriber::filter::LevelFilter::INFO
    };
    tracing_subscriber::registry()
        .with(max)
        .with(ConsoleLayer { console })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::ConsoleMode;

    #[test]
    fn levels_map_to_annotations_and_foreign_events_are_debug() {
        let (console, out) = Console::capture(ConsoleMode::Actions, false);
        let console = Arc::new(console);
        tracing::subscriber::with_default(subscriber(console.clone()), || {
            tracing::warn!("careful");
            tracing::error!("broken");
            tracing::debug!("hidden");
            tracing::error!(target: "octocrab", "failed with status 502");
            // The workspace's other crates speak for the action too.
            tracing::info!(target: "cursor_api::wait::stream", "reading the run");
            tracing::warn!(target: "simple_dependency", "not ours");
        });
        assert_eq!(
            out.text(),
            "::warning::careful\n::error::broken\nreading the run\n"
        );

        let (console, out) = Console::capture(ConsoleMode::Actions, true);
        tracing::subscriber::with_default(subscriber(Arc::new(console)), || {
            tracing::debug!(attempt = 2, "retrying");
            tracing::error!(target: "octocrab", "failed with status 502");
        });
        assert_eq!(
            out.text(),
            "::debug::retrying attempt=2\n::debug::octocrab: failed with status 502\n"
        );
    }
}
