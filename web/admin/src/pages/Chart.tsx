/** A line chart of a few daily series (Recharts), with the same figures as a table beside it
 * for screen readers and anyone who prefers numbers. */
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, XAxis, YAxis } from 'recharts';

import { useI18n } from '@nudges/shared/i18n';

export interface Series {
  key: string;
  label: string;
  color: string;
  dash?: string;
  values: number[];
}

export function DailyChart({ title, days, series }: { title: string; days: string[]; series: Series[] }) {
  const { t, locale } = useI18n();
  const short = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' });
  const label = (day: string) => short.format(new Date(`${day}T12:00:00`));
  const number = new Intl.NumberFormat(locale);
  const rows = days.map((day, i) => ({
    day: label(day),
    ...Object.fromEntries(series.map((s) => [s.key, s.values[i] ?? 0])),
  }));
  return (
    <figure className="chart">
      <div className="chart-area">
        <ResponsiveContainer width="100%" height={240}>
          <LineChart data={rows} title={title} margin={{ top: 12, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid stroke="#c9ced6" vertical={false} />
            <XAxis dataKey="day" tick={{ fill: '#4a5361', fontSize: 12 }} interval="preserveStartEnd" minTickGap={16} />
            <YAxis allowDecimals={false} tick={{ fill: '#4a5361', fontSize: 12 }} tickFormatter={(v: number) => number.format(v)} width={44} />
            <Legend />
            {series.map((s) => (
              <Line
                key={s.key}
                type="monotone"
                dataKey={s.key}
                name={s.label}
                stroke={s.color}
                strokeWidth={2.5}
                strokeDasharray={s.dash}
                dot={{ r: 3, fill: s.color }}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption>
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
