package io.finetune.trainer.linalg;

import java.util.Random;

/** Plain-Java matrix helpers for test references (row-major double[][]). */
public final class Matrices {
    private Matrices() {
    }

    /** (rows, cols) matrix with orthonormal columns: Gram-Schmidt of a seeded Gaussian matrix. */
    public static double[][] orthonormalColumns(int rows, int cols, long seed) {
        Random random = new Random(seed);
        double[][] q = new double[rows][cols];
        for (int j = 0; j < cols; j++) {
            double[] v = new double[rows];
            for (int i = 0; i < rows; i++) {
                v[i] = random.nextGaussian();
            }
            for (int pass = 0; pass < 2; pass++) { // twice: classical Gram-Schmidt loses orthogonality once
                for (int p = 0; p < j; p++) {
                    double dot = 0;
                    for (int i = 0; i < rows; i++) {
                        dot += q[i][p] * v[i];
                    }
                    for (int i = 0; i < rows; i++) {
                        v[i] -= dot * q[i][p];
                    }
                }
            }
            double norm = 0;
            for (double x : v) {
                norm += x * x;
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < rows; i++) {
                q[i][j] = v[i] / norm;
            }
        }
        return q;
    }

    /** U diag(s) V^T for U (m, k), V (n, k). */
    public static double[][] compose(double[][] u, double[] s, double[][] v) {
        int m = u.length;
        int n = v.length;
        double[][] a = new double[m][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < s.length; p++) {
                    sum += u[i][p] * s[p] * v[j][p];
                }
                a[i][j] = sum;
            }
        }
        return a;
    }

    public static double[][] multiply(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int p = 0; p < b.length; p++) {
                for (int j = 0; j < b[0].length; j++) {
                    c[i][j] += a[i][p] * b[p][j];
                }
            }
        }
        return c;
    }

    public static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }

    /** First {@code cols} columns. */
    public static double[][] leftColumns(double[][] a, int cols) {
        double[][] out = new double[a.length][cols];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, out[i], 0, cols);
        }
        return out;
    }

    public static float[] flat(double[][] a) {
        float[] f = new float[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                f[i * a[0].length + j] = (float) a[i][j];
            }
        }
        return f;
    }

    public static double[][] unflat(float[] f, int rows, int cols) {
        double[][] a = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                a[i][j] = f[i * cols + j];
            }
        }
        return a;
    }

    /**
     * sin of the largest principal angle between the column spans of {@code basis} (orthonormal columns) and {@code truth}
     * (orthonormal columns, same count), bounded by the Frobenius norm of (I - T T^T) B.
     */
    public static double subspaceDistance(double[][] basis, double[][] truth) {
        double[][] tb = multiply(transpose(truth), basis);   // (k, k)
        double[][] proj = multiply(truth, tb);               // T T^T B
        double sum = 0;
        for (int i = 0; i < basis.length; i++) {
            for (int j = 0; j < basis[0].length; j++) {
                double d = basis[i][j] - proj[i][j];
                sum += d * d;
            }
        }
        return Math.sqrt(sum);
    }

    public static double maxAbsDiff(double[][] a, double[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return max;
    }
}
