package sessionize.flinktest;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Flink's BoundedOutOfOrdernessWatermarks (watermark = largest timestamp -
 * out-of-orderness - 1 ms), emitted after every element instead of every
 * auto-watermark interval: the same watermarks a job sees when elements
 * arrive slower than the interval, but deterministic, so a test can compare
 * two operators (and a model) on late data.  PyFlink has no Python
 * watermark generators, hence Java (compiled by tests/test_flink_adapter.py).
 */
public class PerEventOutOfOrderness<T> implements WatermarkStrategy<T> {
    private static final long serialVersionUID = 1L;
    private final long outOfOrdernessMillis;

    public PerEventOutOfOrderness(long outOfOrdernessMillis) {
        this.outOfOrdernessMillis = outOfOrdernessMillis;
    }

    @Override
    public WatermarkGenerator<T> createWatermarkGenerator(WatermarkGeneratorSupplier.Context context) {
        return new Generator<>(outOfOrdernessMillis);
    }

    private static final class Generator<T> implements WatermarkGenerator<T> {
        private final long delay;
        private long maxTimestamp;

        Generator(long delay) {
            this.delay = delay;
            this.maxTimestamp = Long.MIN_VALUE + delay + 1;
        }

        @Override
        public void onEvent(T event, long timestamp, WatermarkOutput output) {
            maxTimestamp = Math.max(maxTimestamp, timestamp);
            output.emitWatermark(new Watermark(maxTimestamp - delay - 1));
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
        }
    }
}
