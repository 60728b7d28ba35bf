import Foundation
import Study

/// Shows a training run (`rt train`), as docs/CLI.md has it: the results (a line per epoch, then
/// the summary) on standard output, as text on a terminal and JSON lines otherwise or with
/// `--json`; the progress bar (`ProgressLine`) on standard error.
final class TrainingProgressDisplay {
    private let json: Bool
    private let line = ProgressLine()

    init(json: Bool) {
        self.json = json || isatty(STDOUT_FILENO) != 1
    }

    func show(_ event: TrainingEvent) {
        switch event {
        case let .step(p):
            let text = String(format: "epoch %d/%d %@ %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  ETA %@",
                              p.epoch, p.epochs, line.meter(Double(p.step) / Double(max(p.stepsPerEpoch, 1))), p.step, p.stepsPerEpoch,
                              p.loss, 100 * p.accuracy, p.imagesPerSecond, ProgressLine.duration(p.remainingSeconds))
            line.draw(text, force: p.step == p.stepsPerEpoch)
        case let .epoch(e):
            line.clear()
            if json {
                printJSON(e)
            } else {
                let test = e.testAccuracy.map { String(format: "  test acc %.2f%%", 100 * $0) } ?? ""
                let ring = e.networkWaitMsPerStep.map { String(format: "  ring wait %.1f ms/step (all-reduce %.1f)", $0, e.allreduceMsPerStep ?? 0) } ?? ""
                print(String(format: "epoch %d  train loss %.4f  train acc %.2f%%", e.epoch, e.trainLoss, 100 * e.trainAccuracy)
                      + test + String(format: "  %.1fs  %.0f img/s", e.seconds, e.imagesPerSecond) + ring)
                fflush(stdout)
            }
        }
    }

    func finish(_ summary: TrainingSummary) {
        line.clear()
        if !json {
            print(String(format: "test accuracy %.2f%% on %@ (%d classes) in %@; checkpoint %@",
                         100 * summary.testAccuracy, summary.dataset, summary.classes,
                         ProgressLine.duration(summary.seconds), summary.checkpoint ?? "not written"))
        } else {
            printJSON(summary)
        }
    }

    private func printJSON<T: Encodable>(_ value: T) {
        try? JSONLines.print(value)
    }
}
