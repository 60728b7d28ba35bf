import Cluster
import Datasets
import Foundation
import NeuralNetworks
import Robustness
import Study
import StudyMetrics

/// The common-corruption entry of a sweep's `attacks:` list, `{attack: corruption, kinds:
/// [gaussian_noise, contrast], severities: [1, 3, 5]}` (kinds default to every kind that applies
/// to the images, severities to 1-5), and what a trial stores of it (docs/STUDY.md).
enum StudyCorruptionSuite {
    static let attackName = "corruption"

    static func isCorruption(_ entry: JSONValue) -> Bool {
        guard case let .object(fields) = entry, case let .string(name)? = fields["attack"] else { return false }
        return name == attackName
    }

    /// The suite of the corruption entry, nil without one. Corruptions share the attacks' seed
    /// (`attack_seed`), so every role and seed sees the same corrupted images.
    static func parse(_ entries: [JSONValue], seed: UInt64, path: String = "attacks") throws -> CorruptionSuite? {
        let found = entries.enumerated().filter { isCorruption($0.element) }
        guard let (index, entry) = found.first else { return nil }
        let name = "\(path)[\(index)]"
        if found.count > 1 { throw JobError("parameter \(path)[\(found[1].offset)]: a second corruption entry; list every kind in \(name)") }
        guard case let .object(fields) = entry else { return nil }
        var reader = StudyParameterReader(fields, path: name)
        _ = try reader.string("attack")
        let kinds = try reader.array("kinds")?.map { value -> String in
            guard case let .string(kind) = value else { throw reader.fail("kinds", "must be corruption names such as gaussian_noise, got \(value)") }
            return kind
        }
        let severities = try reader.array("severities")?.map { value -> Int in
            guard case let .int(level) = value else { throw reader.fail("severities", "must be whole numbers from 1 to 5, got \(value)") }
            return level
        }
        try reader.rejectUnknownKeys()
        do {
            return try CorruptionSuite.parse(kinds: kinds, severities: severities, seed: seed,
                                             kindsKey: reader.name("kinds"), severitiesKey: reader.name("severities"))
        } catch { throw JobError("parameter \(error)") }
    }

    /// A kind the images cannot take (`saturate` on gray ones) fails the trial before it trains:
    /// the images' channels are the parent's (a fine-tune keeps its input shape) or the dataset's own.
    static func checkBeforeTraining(_ suite: CorruptionSuite?, task: StudyTaskSpec, parentChannels: Int?, dataDirectory: String?) throws {
        guard let suite, let kinds = suite.kinds, kinds.contains(where: { !$0.applies(toChannels: 1) }) else { return }
        let channels = try parentChannels
            ?? DatasetCatalog.load(task.dataset, split: .test, options: DatasetLoadOptions(dataDirectory: dataDirectory)).channels
        do { _ = try suite.specs(channels: channels) } catch { throw JobError("parameter attacks: \(error)") }
    }

    /// The one mask of all corruption results: a result holds at most 63 masks (the protocol's
    /// frames), and a full suite is 70 (kind, severity) pairs.
    static let maskName = "corruptions"

    /// Measures the suite on `data` and returns the trial's `corruptions` metrics and their mask:
    /// one byte per (result, example), result by result in the order of `results` (result r's
    /// example i at r·examples + i).
    static func measure(_ suite: CorruptionSuite, _ model: ImageClassifier, on data: ImageDataset,
                        batchSize: Int) throws -> (metrics: CorruptionMetrics, masks: [String: Data]) {
        let specs: [CorruptionSpec]
        do { specs = try suite.specs(channels: data.channels) } catch { throw JobError("parameter attacks: \(error)") }
        let report = try CorruptionEvaluator(batchSize: batchSize).evaluate(model, on: data, corruptions: specs)
        let metrics = CorruptionMetrics(
            cleanAccuracy: report.cleanAccuracy, examples: report.examples, meanAccuracy: report.meanAccuracy,
            results: report.results.map {
                .init(kind: $0.kind.rawValue, severity: $0.severity, accuracy: $0.accuracy, successRate: $0.successRate,
                      meanTrueConfidence: $0.meanTrueConfidence)
            },
            seconds: report.results.reduce(0) { $0 + $1.seconds })
        return (metrics, report.results.isEmpty ? [:] : [maskName: StudyTrial.mask(report.results.flatMap(\.correct))])
    }
}
