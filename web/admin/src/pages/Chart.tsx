/** A line chart of a few daily series in SVG, with the same figures as a table beside it. */
import { useId } from 'react';

import { useI18n } from '@nudges/shared/i18n';

export interface Series {
  key: string;
  label: string;
  color: string;
  dash?: string;
  values: number[];
}

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 44 };

function niceMax(value: number): number {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const steps = [1, 2, 2.5, 5, 10];
  for (const step of steps) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

export function DailyChart({ title, days, series }: { title: string; days: string[]; series: Series[] }) {
  const { t, locale } = useI18n();
  const titleId = useId();
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (days.length <= 1 ? innerW / 2 : (i * innerW) / (days.length - 1));
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const short = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' });
  const label = (day: string) => short.format(new Date(`${day}T12:00:00`));
  const every = Math.max(1, Math.ceil(days.length / 7));
  const ticks = [0, max / 2, max];
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={titleId}
        style={{ width: '100%', height: 'auto', background: '#fff' }}
      >
        <title id={titleId}>{title}</title>
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} stroke="#c9ced6" />
            <text x={PAD.left - 6} y={y(tick) + 4} textAnchor="end" fontSize="12" fill="#4a5361">
              {new Intl.NumberFormat(locale).format(tick)}
            </text>
          </g>
        ))}
        {days.map((day, i) =>
          i % every === 0 || i === days.length - 1 ? (
            <text
              key={day}
              x={x(i)}
              y={HEIGHT - 8}
              textAnchor={i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle'}
              fontSize="12"
              fill="#4a5361"
            >
              {label(day)}
            </text>
          ) : null,
        )}
        {series.map((s) => (
          <g key={s.key}>
            <polyline
              fill="none"
              stroke={s.color}
              strokeWidth={2.5}
              strokeDasharray={s.dash}
              points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}
            />
            {s.values.map((v, i) => (
              <circle key={days[i]} cx={x(i)} cy={y(v)} r={3} fill={s.color}>
                <title>{`${s.label}, ${label(days[i] ?? '')}: ${v}`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <figcaption>
        <ul className="legend" aria-label={t('dash.legend')}>
          {series.map((s) => (
            <li key={s.key}>
              <svg width="28" height="10" aria-hidden="true">
                <line x1="0" x2="28" y1="5" y2="5" stroke={s.color} strokeWidth="3" strokeDasharray={s.dash} />
              </svg>
              {s.label}
            </li>
          ))}
        </ul>
        <details>
          <summary>{t('dash.showTable')}</summary>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{title}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('dash.day')}</th>
                  {series.map((s) => (
                    <th scope="col" className="num" key={s.key}>
                      {s.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {days.map((day, i) => (
                  <tr key={day}>
                    <th scope="row">{label(day)}</th>
                    {series.map((s) => (
                      <td className="num" key={s.key}>
                        {s.values[i] ?? 0}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </figcaption>
    </figure>
  );
}
