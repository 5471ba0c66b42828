using Abba.Core.Efficiency;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Catalogue;
using Abba.Experiments.Design;
using Abba.Experiments.Efficiency;
using Abba.Experiments.Memory;
using Abba.Experiments.Mnist;
using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

/// <summary>
/// Runs every registered experiment with its tiny preset, the way <c>abba run NAME --profile tiny</c> does, and checks
/// that each CSV it declares exists with its documented header, each declared figure exists, and its claims can be
/// judged from what it wrote.
/// </summary>
public class RegistrySmokeTests
{
    /// <summary>The documented header of every CSV an experiment declares (a column change must show up here).</summary>
    const string Spectra = "method,target,model,seed,module,stable_rank,above_1pct,budget_rank,top_r_energy";

    static readonly Dictionary<string, string> Headers = new()
    {
        ["reconstruction.csv"] = "matrix_type,n,method,budget,rank,r1,r2,params,seed,rel_sq_error,rank_bound_error,paper_value,steps,hit_cap,settle," +
                                 "best_rel_sq_error,best_start,best_r1,best_r2,best_steps,best_hit_cap,fit_seconds",
        ["reconstruction_settle.csv"] = "matrix_type,n,rank,seed,reason,start,r1,r2,max_steps,rel_sq_error,protocol_rel_sq_error,lora_rel_sq_error,steps,hit_cap,fit_seconds",
        ["mnist_summary.csv"] = "method,rank,params,learning_rate,seeds,train_loss,train_loss_std,train_loss_ci_low,train_loss_ci_high," +
                                "test_loss,test_loss_std,test_loss_ci_low,test_loss_ci_high,acc_8_9,acc_8_9_std,acc_0_7,acc_0_7_std,acc_all,acc_all_std,seconds,paper_final_loss",
        ["mnist_curves.csv"] = "seed,method,step,loss",
        ["mnist_runs.csv"] = "seed,method,rank,params,learning_rate,train_loss,test_loss,test_loss_0_7,acc_8_9,acc_0_7,acc_all,seconds",
        ["mnist_lr_sweep.csv"] = "method,learning_rate,seed,val_loss,val_acc,steps_to_loss,chosen,chosen_for_speed",
        ["mnist_speed_rates.csv"] = "seed,method,learning_rate,steps_to_loss,same_as_loss_rate",
        ["mnist_trajectories.csv"] = "method,checkpoint,step,x,y,loss,off_plane,distance_to_target",
        ["mnist_landscape.csv"] = "x,y,loss",
        ["mnist_plane.csv"] = "explained_x,explained_y,points",
        ["mnist_pretrain.csv"] = "seed,test_acc_0_7,test_loss_0_7",
        ["mnist_optima.csv"] = "optimum,steps,max_steps,converged,gradient_norm,tolerance,train_loss,test_loss",
        ["mnist_closeness.csv"] = "optimum,method,kl,kl_ci_low,kl_ci_high,agreement,weight_distance,kl_rank,distance_rank",
        ["mnist_closeness_seeds.csv"] = "seed,method,kl,agreement,weight_distance,optimum_steps,optimum_converged,optimum_gradient_norm",
        ["mnist_comparisons.csv"] = "artefact,comparison,metric,paper_sign,n,estimate,ci_low,ci_high,interval,verdict",
        ["ablation.csv"] = "method,target,rate_choice,rate,rank,params,model,seed,test_ce,digit_accuracy,exact_match,final_loss,steps,seconds,batch_digest",
        ["ablation_summary.csv"] = "method,target,rate_choice,rate,params,metric,n,mean,std,ci_low,ci_high,interval",
        ["ablation_comparisons.csv"] = "artefact,comparison,metric,paper_sign,n,estimate,ci_low,ci_high,interval,verdict",
        ["lr_sweep.csv"] = "method,target,rate,seed,validation_ce,validation_exact_match,chosen",
        ["pretrain_loss.csv"] = "model,step,loss",
        ["pretrain_accuracy.csv"] = "model,step,task,accuracy",
        ["ablation_spectra.csv"] = Spectra,
        ["ablation_spectrum_curves.csv"] = "method,target,index,normalised_sigma,n",
        ["mnist_spectra.csv"] = Spectra,
        ["encoder_spectra.csv"] = Spectra,
        ["measured_reduced.csv"] = "model,method,layers,vocab,seq_len,trainable_params,modelled_trainable_params,measured_bytes,modelled_bytes," +
                                   "modelled_over_measured,within_tolerance,baseline_bytes,modelled_peak_phase,timing_step_seconds,probe",
        ["measured_bf16.csv"] = "model,method,layers,vocab,seq_len,dtype,measured_bytes,modelled_bytes,modelled_over_measured,within_tolerance," +
                                "modelled_saved_for_backward_bytes,saved_for_backward_over_measured,checks",
        ["breakdown.csv"] = "scale,model,method,component,bytes",
        ["step_time.csv"] = "case,kind,in_features,out_features,tokens,method,trainable_params,rounds,timing_step_ms,timing_step_ms_p25,timing_step_ms_p75," +
                            "timing_forward_ms,timing_backward_ms,timing_optimiser_ms,timing_inference_forward_ms,step_over_lora,step_over_lora_ci_low," +
                            "step_over_lora_ci_high,step_over_base,inference_forward_over_lora,machine_gflops,machine_gb_per_s,floor_gflop,floor_mb,floor_ms," +
                            "achieved_fraction",
        ["paired_ratios.csv"] = "case,numerator,denominator,rounds,ratio,ci_low,ci_high,half_width",
        ["abba_forward_anatomy.csv"] = "case,piece,timing_ms",
        ["design.csv"] = "family,arm,reference,variant,ranks,alpha,scale,exponent,steps,rate_choice,rate,params,model,seed,validation_ce,test_ce,digit_accuracy,exact_match,trained,final_loss,grad_norm_plateau,grad_norm_max,update_moment,seconds,batch_digest",
        ["design_update_moments.csv"] = "arm,exponent,r1,scale,seed,step,moment",
        ["design_stability.csv"] = "exponent,quantity,ranks,n,excluded,slope,ci_low,ci_high,per_seed,predicted",
        ["design_comparisons.csv"] = "artefact,comparison,metric,paper_sign,n,estimate,ci_low,ci_high,interval,verdict",
        ["design_grad_norms.csv"] = "family,arm,seed,step,grad_norm,loss",
        ["design_moments.csv"] = "exponent,r1,r2,seed,output_moment,gradient_moment,expected_output,expected_gradient",
        ["design_slopes.csv"] = "exponent,moment,expected_slope,n,slope,ci_low,ci_high,within_tolerance",
        ["design_summary.csv"] = "method,target,rate_choice,rate,params,metric,n,mean,std,ci_low,ci_high,interval",
        ["encoder_lr_sweep.csv"] = "arm,rate,seed,validation_ce,validation_accuracy,chosen,at_edge",
        ["encoder_runs.csv"] = "arm,method,target,rate_choice,rate,rank,params,seed,test_ce,test_accuracy,test_macro_f1,validation_ce,final_loss,steps,seconds," +
                               "timing_tokens_per_second,padded_share,batch_digest",
        ["encoder_summary.csv"] = "arm,method,target,rank,rate,params,metric,n,mean,std,ci_low,ci_high",
        ["encoder_comparisons.csv"] = "artefact,comparison,metric,paper_sign,n,estimate,ci_low,ci_high,interval,verdict",
        ["encoder_memory.csv"] = "arm,method,target,params,batch_size,seq_len,steps,baseline_bytes,model_bytes,peak_bytes,training_bytes,timing_tokens_per_second,probe",
        ["design_lr_sweep.csv"] = "method,target,rate,seed,validation_ce,validation_exact_match,chosen",
    };

    public static TheoryData<string> Names() => [.. Registry.Names];

    [Theory, MemberData(nameof(Names))]
    public void Run_TinyProfile_WritesDeclaredCsvsAndFiguresAndItsClaims(string name)
    {
        using var root = new TempFolder();
        var experiment = Registry.TryCreate(name)!;
        // One thread: results are then bit-reproducible; with more, MKL may change its blocking between runs.
        string folder = ExperimentRun.Ok(experiment, root.Path, threads: 1, profile: Profile.Tiny);

        Assert.NotEmpty(experiment.Info.CsvNames);
        foreach (string csv in experiment.Info.CsvNames)
        {
            Assert.True(Headers.TryGetValue(csv, out var header), $"{csv} has no documented header in this test");
            Assert.Equal(header, File.ReadLines(Path.Combine(folder, csv)).First());
        }
        foreach (string figure in experiment.Info.Figures.Select(f => f.Name))
        {
            Assert.True(new FileInfo(Path.Combine(folder, figure + ".png")).Length > 5_000, figure);
            Assert.True(File.Exists(Path.Combine(folder, figure + ".svg")), figure);
        }
        var claims = experiment.Claims(folder);
        Assert.NotEmpty(claims);
        Assert.All(claims, c => Assert.False(string.IsNullOrWhiteSpace(c.MeasuredValue)));
        CheckSpecifics(name, folder);
    }

    /// <summary>What each experiment's tiny run must show beyond its files.</summary>
    static void CheckSpecifics(string name, string folder)
    {
        switch (name)
        {
            case "mnist":
                var summary = CsvFiles.Read<MnistSummaryRow>(Path.Combine(folder, MnistFiles.Summary));
                Assert.Equal(["full_ft", "lora", "hira", "abba"], summary.Select(s => s.Method));
                Assert.Equal(0.0225, summary.Single(s => s.Method == "abba").PaperFinalLoss);
                // Equal budget: LoRA r, HiRA r and ABBA r1 = r2 = r/2 train the same number of parameters.
                Assert.Single(summary.Where(s => s.Method != "full_ft").Select(s => s.Params).Distinct());
                Assert.Equal(5 * 5, CsvFiles.Read<MnistLandscapeRow>(Path.Combine(folder, MnistFiles.Landscape)).Count);
                // Two optima, each compared with every arm; ABBA compared with three baselines on train, test, speed and per-optimum KL.
                Assert.Equal(2, CsvFiles.Read<MnistOptimumRow>(Path.Combine(folder, MnistFiles.Optima)).Count);
                Assert.Equal(2 * 4, CsvFiles.Read<MnistClosenessRow>(Path.Combine(folder, MnistFiles.Closeness)).Count);
                var perSeed = CsvFiles.Read<MnistSeedClosenessRow>(Path.Combine(folder, MnistFiles.SeedCloseness));
                Assert.Equal(4, perSeed.Count);   // one seed, four arms, each against the seed's own optimum
                Assert.All(perSeed, r => Assert.True(r.Kl >= 0, $"{r.Method}: KL {r.Kl} below zero"));
                // the closeness unit fine-tunes each arm again: its model is the arm unit's
                var landscapeKl = CsvFiles.Read<MnistClosenessRow>(Path.Combine(folder, MnistFiles.Closeness))
                    .Where(r => r.Optimum == 1).ToDictionary(r => r.Method, r => r.Kl);
                Assert.All(perSeed, r => Assert.Equal(landscapeKl[r.Method], r.Kl, 5));
                // train, test and speed (at the loss rates and at the speed rates) against three baselines; KL against
                // them per optimum, and against LoRA and HiRA over seeds
                Assert.Equal(4 * 3 + 2 * 3 + 2, CsvFiles.Read<ComparisonRow>(Path.Combine(folder, MnistFiles.Comparisons)).Count);
                break;
            case "memory":
                var measured = CsvFiles.Read<MemoryMeasuredRow>(Path.Combine(folder, MemoryFiles.Measured));
                Assert.Equal(Abba.Core.Efficiency.CostMethod.TrainingMethodNames, measured.Select(r => r.Method));   // one child process each
                Assert.All(measured, r => Assert.True(r.TrainableParams == r.ModelledTrainableParams, $"{r.Method}: {r.TrainableParams} trained, {r.ModelledTrainableParams} modelled"));
                break;
            case "design":
                var design = CsvFiles.Read<DesignRow>(Path.Combine(folder, DesignFiles.Runs));
                Assert.Equal(["pretrained", .. DesignOptions.AllFamilies], design.Select(r => r.Family).Distinct());
                // One reference arm, the same runs in every family; every arm of a seed trained on the same batches.
                Assert.Single(design.Where(r => r.Reference).Select(r => r.Variant).Distinct());
                Assert.All(design.Where(r => r.Family != "pretrained").GroupBy(r => r.Seed), g => Assert.Single(g.Select(r => r.BatchDigest).Distinct()));
                // Both pairs LoRA-style: every gradient exactly zero, the test loss exactly the pre-trained model's.
                double floor = design.Single(r => r.Family == "pretrained").TestCe;
                Assert.All(design.Where(r => r.Arm == "both_zero"), r => { Assert.Equal(0, r.GradNormMax); Assert.Equal(floor, r.TestCe); });
                Assert.All(design.Where(r => r.Family != "pretrained" && r.Arm != "both_zero"), r => Assert.NotEqual(floor, r.TestCe));
                var claims = new DesignExperiment().Claims(folder);
                Assert.Equal(Verdict.Reproduced, claims.Single(c => c.Statement.StartsWith("Both pairs LoRA-style", StringComparison.Ordinal)).Verdict);
                Assert.DoesNotContain(claims, c => c.Verdict == Verdict.NotRun);
                Assert.Equal(4 * 2, CsvFiles.Read<SlopeRow>(Path.Combine(folder, DesignFiles.Slopes)).Count);
                break;
            case "encoder":
                var runs = CsvFiles.Read<Abba.Experiments.Encoder.EncoderRow>(Path.Combine(folder, Abba.Experiments.Encoder.EncoderFiles.Runs));
                Assert.Equal(["head_only", "abba_all", "lora", "lora_quarter", "abba_query"], runs.Select(r => r.Arm).Distinct());
                // Equal budget: ABBA r1 = r2 = r/2 and LoRA r train the same parameters (the same head included); the head alone is 384 x C + C.
                Assert.Equal(runs.First(r => r.Arm == "lora").Params, runs.First(r => r.Arm == "abba_all").Params);
                long head = runs.First(r => r.Arm == "head_only").Params;
                Assert.Equal(0, head % 385);
                Assert.All(runs.GroupBy(r => r.Seed), g => Assert.Single(g.Select(r => r.BatchDigest).Distinct()));
                Assert.Equal(2, runs.Select(r => r.Seed).Distinct().Count());
                // Peak memory, one child process per arm: the model's own float32 copy of the 22.7M encoder weights
                // is resident once it is built, and at the peak every trainable parameter's gradient and two AdamW
                // moments are too.
                var memory = CsvFiles.Read<Abba.Experiments.Encoder.EncoderMemoryRow>(Path.Combine(folder, Abba.Experiments.Encoder.EncoderFiles.Memory));
                Assert.Equal(runs.Select(r => r.Arm).Distinct(), memory.Select(m => m.Arm));
                long weightBytes = 4 * Abba.Core.Models.BertConfig.MiniLmL6.EncoderParameterCount();
                Assert.All(memory, m => Assert.InRange(m.ModelBytes, weightBytes, 2 * weightBytes));
                Assert.All(memory, m => Assert.True(m.TrainingBytes >= 12 * m.Params, $"{m.Arm}: {m.TrainingBytes} bytes for {m.Params} parameters"));
                Assert.All(memory, m => Assert.Equal(runs.First(r => r.Arm == m.Arm).Params, m.Params));
                break;
            case "efficiency":
                var rows = CsvFiles.Read<EfficiencyRow>(Path.Combine(folder, EfficiencyFiles.StepTime));
                Assert.Equal(["base", "abba_kr", "abba_kr_plain", "abba_dense", "lora", "dora", "hira", "full_ft"], rows.Select(r => r.Method));
                Assert.Equal(1.0, rows.Single(r => r.Method == "lora").StepOverLora);
                Assert.All(rows, r => Assert.InRange(r.AchievedFraction!.Value, 1e-6, 1.0));   // no step beats its floor
                var ratios = CsvFiles.Read<PairedRatioRow>(Path.Combine(folder, EfficiencyFiles.Ratios));
                Assert.Equal(rows.Count - 1 + 2, ratios.Count);   // each method over LoRA, lean over plain, ABBA over base
                Assert.All(ratios, r => Assert.InRange(r.Ratio, r.Low, r.High));
                Assert.Equal(6, CsvFiles.Read<AnatomyRow>(Path.Combine(folder, EfficiencyFiles.Anatomy)).Count);
                Assert.Equal(Verdict.NotRun, Assert.Single(new EfficiencyExperiment().Claims(folder)).Verdict);   // no 4096x4096 case, no decoder
                break;
        }
    }
}
