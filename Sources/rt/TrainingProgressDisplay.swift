import Foundation
import Study

/// Shows a training run (`rt train`): a one-line progress bar on a terminal, JSON lines otherwise.
final class TrainingProgressDisplay {
    private let json: Bool
    private let terminal = isatty(STDOUT_FILENO) == 1
    private var lastDraw = Date.distantPast

    init(json: Bool) { self.json = json }

    private var usesBar: Bool { terminal && !json }

    func show(_ event: TrainingEvent) {
        switch event {
        case let .step(p):
            guard usesBar, Date().timeIntervalSince(lastDraw) > 0.1 || p.step == p.stepsPerEpoch else { return }
            lastDraw = Date()
            let width = 24
            let filled = width * p.step / max(p.stepsPerEpoch, 1)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = String(format: "epoch %d/%d %@ %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  ETA %@",
                              p.epoch, p.epochs, bar, p.step, p.stepsPerEpoch, p.loss, 100 * p.accuracy,
                              p.imagesPerSecond, Self.duration(p.remainingSeconds))
            FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + line).utf8))
        case let .epoch(e):
            if usesBar {
                print(String(format: "\r\u{1B}[2Kepoch %d  train loss %.4f  train acc %.2f%%  test acc %.2f%%  %.1fs",
                             e.epoch, e.trainLoss, 100 * e.trainAccuracy, 100 * (e.testAccuracy ?? .nan), e.seconds))
            } else {
                printJSON(e)
            }
        }
    }

    func finish(_ summary: TrainingSummary) {
        if usesBar {
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
