import Datasets
import NeuralNetworks

/// The data a checkpoint is evaluated on: a split of a dataset, the same class selection as
/// at training, brought to the model's image shape.
public enum EvaluationData {
    public static func load(dataset: String, classes: String?, split: DatasetSplit, limit: Int?,
                            for model: ImageClassifier, dataDirectory: String? = nil) throws -> ImageDataset {
        let data = try load(dataset: dataset, classes: classes, split: split, limit: limit,
                            imageShape: model.modelDescription.inputShape, dataDirectory: dataDirectory)
        try Evaluation.requireCompatible(model, data)
        return data
    }

    /// The same view brought to an image shape (C, H, W), without a class-count check
    /// (representation analysis compares models whose heads may differ).
    public static func load(dataset: String, classes: String?, split: DatasetSplit, limit: Int?,
                            imageShape shape: [Int], dataDirectory: String? = nil) throws -> ImageDataset {
        var options = DatasetLoadOptions()
        options.dataDirectory = dataDirectory
        (options.channels, options.height, options.width) = (shape[0], shape[1], shape[2])
        var data = try DatasetCatalog.load(dataset, split: split, options: options)
        if let classes { data = try data.selectingClasses(ClassSelection.parse(classes, classNames: data.classNames)) }
        if let limit { data = data.prefix(limit) }
        return data
    }
}
