import Foundation

/// The progress line of every `rt` command that runs longer than a few seconds (train, run,
/// study, evaluate, attack, analyze, bench): one line on standard error, redrawn in place. It is
/// drawn only when standard error is a terminal that can redraw a line (`TERM` is not `dumb`),
/// so a pipe, a log file or a script never sees it; its meter is coloured unless `NO_COLOR` is set
/// (no-color.org). Results go to standard output: `clear()` before printing one, so the two never
/// share a line on a terminal.
final class ProgressLine {
    /// Whether anything is drawn at all.
    let isShown: Bool
    private let colour: Bool
    private var drawn = false
    private var lastDraw = Date.distantPast

    init(enabled: Bool = true, terminal: Bool = isatty(STDERR_FILENO) == 1,
         environment: [String: String] = ProcessInfo.processInfo.environment) {
        isShown = enabled && Self.canRedraw(terminal: terminal, environment: environment)
        colour = (environment["NO_COLOR"] ?? "").isEmpty
    }

    /// A terminal that is not a dumb one (which cannot move back to the start of the line).
    static func canRedraw(terminal: Bool, environment: [String: String]) -> Bool {
        terminal && environment["TERM"] != "dumb"
    }

    /// Redraws the line with `text`, at most ten times a second unless `force` (a final state).
    func draw(_ text: String, force: Bool = false) {
        guard isShown, force || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
        drawn = true
    }

    /// Wipes the line (before a result is printed, and at the end).
    func clear() {
        guard drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        drawn = false
    }

    /// `███████·····`, the filled part coloured unless NO_COLOR.
    func meter(_ fraction: Double, width: Int = 24) -> String {
        let filled = max(0, min(width, Int((Double(width) * fraction).rounded(.down))))
        let bar = String(repeating: "█", count: filled)
        return (colour ? "\u{1B}[36m\(bar)\u{1B}[0m" : bar) + String(repeating: "·", count: width - filled)
    }

    /// Draws a pass over examples: `what ███···· 512/10000 examples  ETA 1m02s`; the returned closure
    /// is what the evaluators call (`ExampleProgress`).
    func examples(_ what: String) -> (Int, Int) -> Void {
        let started = Date()
        return { [self] done, total in
            let fraction = total > 0 ? Double(done) / Double(total) : 1
            let elapsed = Date().timeIntervalSince(started)
            let eta = done > 0 ? elapsed * Double(total - done) / Double(done) : .nan
            draw("\(what) \(meter(fraction)) \(done)/\(total) examples  ETA \(Self.duration(eta))", force: done == total)
        }
    }

    /// Draws step `index` (from 1) of `total`: `[2/6] what`.
    func step(_ index: Int, of total: Int, _ what: String) {
        draw("[\(index)/\(total)] \(meter(Double(index - 1) / Double(max(total, 1)), width: 12)) \(what)", force: true)
    }

    /// 95 -> "1m35s", 4000 -> "1h06m", not finite -> "--".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
