// Package metrics holds the Prometheus metrics of a server or worker
// process, in one registry served at /wps/api/metrics.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/computewps/computewps/internal/ops"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are every metric ComputeWPS records.
type Metrics struct {
	Registry *prometheus.Registry

	Requests      *prometheus.HistogramVec // route, operation, method, code
	JobsFinished  *prometheus.CounterVec   // process, state
	QueueWait     prometheus.Histogram
	RunTime       *prometheus.HistogramVec // process
	BytesRead     prometheus.Collector
	BytesWritten  prometheus.Counter
	Introspection *prometheus.CounterVec // result: hit, miss
	Workers       prometheus.Gauge
}

var secondsBuckets = prometheus.ExponentialBuckets(0.001, 4, 10) // 1 ms .. 4.4 min

// New makes the metrics in a registry of their own, with the Go and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wps_request_seconds", Help: "HTTP requests by route, WPS operation, method and status code.",
			Buckets: secondsBuckets,
		}, []string{"route", "operation", "method", "code"}),
		JobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wps_jobs_finished_total", Help: "Jobs that ended, by process and final state.",
		}, []string{"process", "state"}),
		QueueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wps_job_queue_wait_seconds", Help: "Time from a job's submission to the start of its run.",
			Buckets: secondsBuckets,
		}),
		RunTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wps_job_run_seconds", Help: "Run time of jobs by process.", Buckets: secondsBuckets,
		}, []string{"process"}),
		BytesRead: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "wps_input_bytes_read_total", Help: "Bytes of input data read by the jobs of this process.",
		}, func() float64 { return float64(ops.BytesRead()) }),
		BytesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wps_output_bytes_written_total", Help: "Bytes of output files written by jobs.",
		}),
		Introspection: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wps_token_introspection_total", Help: "Access-token checks, answered from the cache (hit) or by the provider (miss).",
		}, []string{"result"}),
		Workers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wps_workers", Help: "Job slots this process runs.",
		}),
	}
	m.Registry.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
		m.Requests, m.JobsFinished, m.QueueWait, m.RunTime, m.BytesRead, m.BytesWritten, m.Introspection, m.Workers)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// WatchJobStates publishes the number of jobs in each state, asking count
// when Prometheus scrapes (the store is shared by every process).
func (m *Metrics) WatchJobStates(count func(ctx context.Context) (map[string]int, error)) {
	m.Registry.MustRegister(&stateCollector{count: count, desc: prometheus.NewDesc(
		"wps_jobs", "Jobs in the job store by state.", []string{"state"}, nil)})
}

type stateCollector struct {
	count func(ctx context.Context) (map[string]int, error)
	desc  *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}
