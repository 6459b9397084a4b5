package io.finetune.trainer.arrays;

import static io.finetune.trainer.TensorStorage.addressModulo1GiB;
import static io.finetune.trainer.TensorStorage.offsetFrom64ByteBoundary;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link OwnedArrays#copyInto}: saved values go back into a live array without moving it out of libtorch's storage, which a
 * resumed run needs to compute on the same kind of memory as the run it continues.
 */
class OwnedArraysCopyIntoTest {
    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        v[0] = Float.NaN; // copied as bits, not through arithmetic
        v[1] = Float.NEGATIVE_INFINITY;
        v[2] = -0f;
        return v;
    }

    @Test
    void writesEveryValueBitForBitIntoTheSameAlignedTensor() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int i = 0; i < 8; i++) {
                NDArray target = m.zeros(new Shape(12, 20 + i));
                target.setRequiresGradient(true);
                float[] v = values((int) target.size(), i);
                OwnedArrays.copyInto(target, v);
                float[] back = target.toFloatArray();
                for (int j = 0; j < v.length; j++) {
                    assertThat(Float.floatToRawIntBits(back[j])).as("value %d", j).isEqualTo(Float.floatToRawIntBits(v[j]));
                }
                int address = addressModulo1GiB(target);
                OwnedArrays.copyInto(target, v);
                assertThat(addressModulo1GiB(target)).as("the same storage as before").isEqualTo(address);
                assertThat(offsetFrom64ByteBoundary(target)).as("still libtorch's 64-byte-aligned storage").isZero();
                assertThat(target.hasGradient()).as("still the autograd leaf it was").isTrue();
            }
        }
    }

    @Test
    void djlSetWouldSwapTheStorageWhichIsWhyCopyIntoExists() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray kept = m.zeros(new Shape(8, 24));
            int before = addressModulo1GiB(kept);
            OwnedArrays.copyInto(kept, values(8 * 24, 1));
            assertThat(addressModulo1GiB(kept)).as("copyInto writes into the same storage").isEqualTo(before);

            NDArray swapped = m.zeros(new Shape(8, 24));
            int original = addressModulo1GiB(swapped);
            swapped.set(values(8 * 24, 2));
            // DJL's set(float[]) points the tensor at the direct buffer it filled (malloc'ed: 16-byte alignment, not
            // libtorch's 64). Should DJL start copying instead, this fails and copyInto can go.
            assertThat(addressModulo1GiB(swapped)).as("NDArray.set moved the array to other memory").isNotEqualTo(original);
        }
    }

    @Test
    void aWrongNumberOfValuesIsAClearError() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray target = m.zeros(new Shape(3, 4));
            assertThatThrownBy(() -> OwnedArrays.copyInto(target, new float[11]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("11 values").hasMessageContaining("(3, 4)");
        }
    }
}
