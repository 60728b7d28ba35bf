import Foundation
import Study

/// Shows a training run (`rt train`), as docs/CLI.md has it: the results (a line per epoch, then
/// the summary) on standard output, as text on a terminal and JSON lines otherwise or with
/// `--json`; a progress bar on standard error, only when that is a terminal that can redraw a
/// line (`TERM=dumb` cannot).
final class TrainingProgressDisplay {
    private let json: Bool
    private let bar: Bool
    private var barShown = false
    private var lastDraw = Date.distantPast

    init(json: Bool) {
        self.json = json || isatty(STDOUT_FILENO) != 1
        bar = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    func show(_ event: TrainingEvent) {
        switch event {
        case let .step(p):
            guard bar, Date().timeIntervalSince(lastDraw) > 0.1 || p.step == p.stepsPerEpoch else { return }
            lastDraw = Date()
            let width = 24
            let filled = width * p.step / max(p.stepsPerEpoch, 1)
            let meter = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = String(format: "epoch %d/%d %@ %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  ETA %@",
                              p.epoch, p.epochs, meter, p.step, p.stepsPerEpoch, p.loss, 100 * p.accuracy,
                              p.imagesPerSecond, Self.duration(p.remainingSeconds))
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
            barShown = true
        case let .epoch(e):
            clearBar()
            if json {
                printJSON(e)
            } else {
                let test = e.testAccuracy.map { String(format: "  test acc %.2f%%", 100 * $0) } ?? ""
                let ring = e.networkWaitMsPerStep.map { String(format: "  ring wait %.1f ms/step (all-reduce %.1f)", $0, e.allreduceMsPerStep ?? 0) } ?? ""
                print(String(format: "epoch %d  train loss %.4f  train acc %.2f%%", e.epoch, e.trainLoss, 100 * e.trainAccuracy)
                      + test + String(format: "  %.1fs  %.0f img/s", e.seconds, e.imagesPerSecond) + ring)
            }
        }
    }

    /// The bar's line is wiped before a result is printed, so the two never share a line.
    private func clearBar() {
        guard barShown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        barShown = false
    }

    func finish(_ summary: TrainingSummary) {
        clearBar()
        if !json {
            print(String(format: "test accuracy %.2f%% on %@ (%d classes) in %@; checkpoint %@",
                         100 * summary.testAccuracy, summary.dataset, summary.classes,
                         Self.duration(summary.seconds), summary.checkpoint ?? "not written"))
        } else {
            printJSON(summary)
        }
    }

    private func printJSON<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
        fflush(stdout)
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
